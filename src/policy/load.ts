import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { ZodIssue, ZodTypeAny, z } from 'zod';
import { SandboxError } from '../errors.js';
import { FIELD_FORMS, PolicyFileSchema, type PolicyFile } from './schema.js';

const MAX_SHOWN = 120;

/** The value at an issue's path, shown short: a long list is not echoed whole. */
function shownValue(input: unknown, path: (string | number)[]): string {
  let value: unknown = input;
  for (const key of path) {
    value =
      value && typeof value === 'object'
        ? (value as Record<string | number, unknown>)[key]
        : undefined;
  }
  if (Array.isArray(value)) return `a list of ${value.length} entries`;
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}...` : text;
}

/** One zod issue as a sentence naming the file, the field, the value and the accepted form. */
export function describeIssue(
  label: string,
  issue: ZodIssue,
  input: unknown,
  forms: Record<string, string>,
): string {
  const field = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const where = field ? `${field}.` : '';
    return `${label}: unknown field ${issue.keys.map((k) => `${where}${k}`).join(', ')}; accepted fields here: ${forms[field ? `${field}.*` : '*'] ?? forms[field] ?? 'see the documentation'}`;
  }
  const generic = field.replace(/\.\d+$/, '');
  const accepted = forms[generic] ?? issue.message;
  return `${label}: ${field || '(top level)'}: ${shownValue(input, issue.path)} is not accepted (${issue.message}); expected ${accepted}`;
}

/** Parses YAML text strictly (unique keys, few aliases); `expected` says what the file should be. */
export function parseYamlText(
  text: string,
  label: string,
  expected: string,
): unknown {
  try {
    return parseYaml(text, {
      prettyErrors: true,
      uniqueKeys: true,
      maxAliasCount: 100,
    });
  } catch (error) {
    const detail =
      error instanceof YAMLParseError
        ? error.message.split('\n')[0]
        : String(error);
    throw new SandboxError(
      'CONFIG_INVALID',
      `${label}: not valid YAML: ${detail}; expected ${expected}`,
      { cause: error },
    );
  }
}

/** Validates parsed YAML against a schema; the first issue becomes the error. */
export function validateDocument<S extends ZodTypeAny>(
  schema: S,
  data: unknown,
  label: string,
  forms: Record<string, string>,
): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const first = result.error.issues[0]!;
  throw new SandboxError(
    'CONFIG_INVALID',
    describeIssue(label, first, data, forms),
    { context: { field: first.path.join('.') } },
  );
}

/** Parses and validates a YAML policy text; errors name the file, field and value. */
export function parsePolicyFile(text: string, label: string): PolicyFile {
  const data = parseYamlText(
    text,
    label,
    'a YAML mapping with the keys network and filesystem',
  );
  if (data === null || data === undefined) return {};
  return validateDocument(PolicyFileSchema, data, label, {
    ...FIELD_FORMS,
    '*': Object.keys(PolicyFileSchema.shape).join(', '),
    'network.*': FIELD_FORMS.network!,
    'filesystem.*': FIELD_FORMS.filesystem!,
  });
}
