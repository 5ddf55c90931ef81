import type { ZodIssue } from 'zod';
import { SandboxError } from '../errors.js';
import { FIELD_FORMS, PolicyFileSchema, type PolicyFile } from './schema.js';

function issueMessage(label: string, issue: ZodIssue, input: unknown): string {
  const field = issue.path.join('.');
  let value: unknown = input;
  for (const key of issue.path) {
    value =
      value && typeof value === 'object'
        ? (value as Record<string | number, unknown>)[key]
        : undefined;
  }
  if (issue.code === 'unrecognized_keys') {
    const where = field ? `${field}.` : '';
    return `${label}: unknown field ${issue.keys.map((k) => `${where}${k}`).join(', ')}; accepted fields here: ${FIELD_FORMS[field] ?? Object.keys(PolicyFileSchema.shape).join(', ')}`;
  }
  const generic = field.replace(/\.\d+$/, '');
  const accepted = FIELD_FORMS[generic] ?? issue.message;
  return `${label}: ${field || '(top level)'}: ${JSON.stringify(value) ?? 'nothing'} is not accepted (${issue.message}); expected ${accepted}`;
}

/**
 * Parses YAML with the `yaml` library, loaded on first use: most runs read
 * no YAML at all, and its import costs tens of milliseconds.
 */
export async function parseYamlText(text: string): Promise<unknown> {
  const yaml = await import('yaml');
  // A bundler may hand over the CommonJS build as the default export.
  const parse =
    yaml.parse ?? (yaml as unknown as { default: typeof yaml }).default.parse;
  return parse(text, {
    prettyErrors: true,
    uniqueKeys: true,
    maxAliasCount: 100,
  });
}

/** The first line of a YAML error, for a one-line message. */
export function yamlErrorLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split(
    '\n',
  )[0]!;
}

/** Parses and validates a YAML policy text; errors name the file, field and value. */
export async function parsePolicyFile(
  text: string,
  label: string,
): Promise<PolicyFile> {
  let data: unknown;
  try {
    data = await parseYamlText(text);
  } catch (error) {
    throw new SandboxError(
      'CONFIG_INVALID',
      `${label}: not valid YAML: ${yamlErrorLine(error)}; expected a YAML mapping with the keys network and filesystem`,
      { cause: error },
    );
  }
  if (data === null || data === undefined) return {};
  const result = PolicyFileSchema.safeParse(data);
  if (!result.success) {
    const first = result.error.issues[0]!;
    throw new SandboxError('CONFIG_INVALID', issueMessage(label, first, data), {
      context: { field: first.path.join('.') },
    });
  }
  return result.data;
}
