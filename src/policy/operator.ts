import { z } from 'zod';
import { LEVELS, type Level } from '../engines/types.js';
import { parseNetworkEntry } from './entries.js';
import { parseYamlDocument, readConfigFile, validateDocument } from './load.js';
import { stringList } from './schema.js';
import { parsePath } from './paths.js';
import { invalidInput } from '../errors.js';
import type { NetworkRule, PathRule, RuleSource } from './types.js';

/** Most entries an operator list may hold (same bound as a policy file). */
export const MAX_OPERATOR_ENTRIES = 50_000;

const domains = stringList(MAX_OPERATOR_ENTRIES);

/** The operator's file: every key optional, unknown keys refused. */
export const OperatorFileSchema = z
  .object({
    version: z.literal(1).optional(),
    mode: z.enum(['strict', 'flexible']).optional(),
    allowed_domains: domains.optional(),
    denied_domains: domains.optional(),
    allow_all_unix_sockets: z.boolean().optional(),
    denied_unix_sockets: domains.optional(),
    require_sandbox_for_custom_images: z.boolean().optional(),
    minimum_level: z.enum(LEVELS).optional(),
  })
  .strict();

export type OperatorFile = z.infer<typeof OperatorFileSchema>;

const FIELDS = Object.keys(OperatorFileSchema.shape).join(', ');

const FORMS: Record<string, string> = {
  '': `a YAML mapping with the keys ${FIELDS}`,
  '*': FIELDS,
  version: 'the number 1',
  mode: 'strict (projects may only narrow the operator policy) or flexible (projects may add entries the operator does not deny)',
  allowed_domains:
    'a list of host, *.host, IP or CIDR entries, each optionally with :PORT',
  denied_domains:
    'a list of host, *.host, IP or CIDR entries, each optionally with :PORT',
  allow_all_unix_sockets: 'true or false',
  denied_unix_sockets: 'a list of absolute socket paths',
  require_sandbox_for_custom_images: 'true or false',
  minimum_level: `one of ${LEVELS.join(', ')}`,
};

/** The operator's policy, validated: what every weaker source is checked against. */
export interface OperatorPolicy {
  file: string;
  mode: 'strict' | 'flexible';
  allow: NetworkRule[];
  deny: NetworkRule[];
  /** Unset: strict refuses a weaker source's `true`, flexible accepts it. */
  allowAllUnixSockets?: boolean;
  /** Sockets no job may reach, whatever any other source allows. */
  denyUnixSockets: PathRule[];
  requireSandboxForCustomImages: boolean;
  minimumLevel?: Level;
}

// The operator's file serves every job on the runner, so `~` and `.` (the
// job's home and working directory) have no single meaning there.
function socketPaths(values: string[], file: string): PathRule[] {
  return values.map((raw, i) => {
    const field = `${file}: denied_unix_sockets[${i}]`;
    if (!raw.startsWith('/')) {
      throw invalidInput(
        'POLICY_INVALID',
        field,
        raw,
        FORMS.denied_unix_sockets!,
        'not an absolute path',
      );
    }
    const root = { home: '/', cwd: '/' };
    return parsePath(raw, field, root, { kind: 'operator', origin: field });
  });
}

/** Validates operator-file text; errors name the file, the field, the value and the accepted form. */
export async function parseOperatorPolicy(
  text: string,
  file: string,
): Promise<OperatorPolicy> {
  const data = await parseYamlDocument(text, file, FORMS['']!);
  const parsed: OperatorFile =
    data === null || data === undefined
      ? {}
      : validateDocument(OperatorFileSchema, data, file, FORMS);
  const rules = (field: 'allowed_domains' | 'denied_domains') =>
    (parsed[field] ?? []).map((raw, i) => {
      const at = `${file}: ${field}[${i}]`;
      const source: RuleSource = { kind: 'operator', origin: at };
      return parseNetworkEntry(
        raw,
        at,
        source,
        field === 'denied_domains' ? 'deny' : 'allow',
      );
    });
  return {
    file,
    mode: parsed.mode ?? 'strict',
    allow: rules('allowed_domains'),
    deny: rules('denied_domains'),
    allowAllUnixSockets: parsed.allow_all_unix_sockets,
    denyUnixSockets: socketPaths(parsed.denied_unix_sockets ?? [], file),
    requireSandboxForCustomImages:
      parsed.require_sandbox_for_custom_images ?? false,
    minimumLevel: parsed.minimum_level,
  };
}

/** Reads the operator's file; a missing, unreadable or broken file is an error (exit 125). */
export async function loadOperatorPolicy(
  file: string,
): Promise<OperatorPolicy> {
  const text = await readConfigFile(
    file,
    'operator policy',
    'operator-policy',
    'a readable YAML file (--operator-policy or FLOW_SANDBOX_OPERATOR_POLICY)',
  );
  return parseOperatorPolicy(text, file);
}
