import { readFile } from 'node:fs/promises';
import type { ZodIssue, ZodTypeAny, z } from 'zod';
import { SandboxError } from '../errors.js';
import { parseJsonObject } from './json-fast.js';
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
  const accepted = forms[generic];
  const shown = `${label}: ${field || '(top level)'}: ${shownValue(input, issue.path)} is not accepted`;
  // zod's own message ("Expected object, received string") says what is
  // accepted where no form is written down.
  return accepted
    ? `${shown} (${issue.message}); expected ${accepted}`
    : `${shown}: ${issue.message}`;
}

/** Aliases a document may use: enough for any policy, too few to blow one up. */
const MAX_ALIASES = 100;

/**
 * Parses YAML 1.2 (core schema) with js-yaml, loaded on first use: most
 * runs read no YAML at all. A plain JSON object (JSON is YAML) is read by
 * JSON.parse, to the same value. An empty text, or one of comments only,
 * is null; more than one document is an error.
 */
export async function parseYamlText(text: string): Promise<unknown> {
  const json = parseJsonObject(text);
  if (json) return json;
  const { loadAll } = await import('js-yaml');
  const documents = loadAll(text, { maxAliases: MAX_ALIASES });
  if (documents.length > 1)
    throw new Error(
      `${documents.length} YAML documents (separated by ---) where one is expected`,
    );
  return documents[0] ?? null;
}

/** The first line of a YAML error, for a one-line message. */
export function yamlErrorLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split(
    '\n',
  )[0]!;
}

/** Parses YAML text; a syntax error names the file and says what was `expected`. */
export async function parseYamlDocument(
  text: string,
  label: string,
  expected: string,
): Promise<unknown> {
  try {
    return await parseYamlText(text);
  } catch (error) {
    throw new SandboxError(
      'CONFIG_INVALID',
      `${label}: not valid YAML: ${yamlErrorLine(error)}; expected ${expected}`,
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
export async function parsePolicyFile(
  text: string,
  label: string,
): Promise<PolicyFile> {
  const mapping = `a YAML mapping with the keys ${Object.keys(PolicyFileSchema.shape).join(', ')}`;
  const data = await parseYamlDocument(text, label, mapping);
  if (data === null || data === undefined) return {};
  return validateDocument(PolicyFileSchema, data, label, {
    '': mapping,
    ...FIELD_FORMS,
    '*': Object.keys(PolicyFileSchema.shape).join(', '),
    'network.*': FIELD_FORMS.network!,
    'filesystem.*': FIELD_FORMS.filesystem!,
  });
}

/**
 * Reads a configuration file; one that cannot be read is a CONFIG_INVALID
 * error naming what it is, the file and where it comes from.
 */
export async function readConfigFile(
  file: string,
  what: string,
  field: string,
  expected: string,
): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new SandboxError(
      'CONFIG_INVALID',
      `${what} ${file} cannot be read: ${(error as Error).message}; expected ${expected}`,
      { cause: error, context: { field, value: file } },
    );
  }
}
