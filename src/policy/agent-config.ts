import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SandboxError } from '../errors.js';
import { parseYamlDocument, validateDocument } from './load.js';
import { stringList } from './schema.js';

/** Where GitLab keeps a project's agent configuration. */
export const AGENT_CONFIG_PATH = '.gitlab/duo/agent-config.yml';

/** Most entries a project may list in allowed_domains or denied_domains. */
export const MAX_PROJECT_ENTRIES = 1000;

const domains = stringList(MAX_PROJECT_ENTRIES);

/**
 * The project's `network_policy`. Unknown keys are refused: a misspelt
 * `allowed_domain` silently ignored would leave the author puzzled, and a
 * key we do not understand must not be guessed at.
 */
export const NetworkPolicySchema = z
  .object({
    allowed_domains: domains.optional(),
    denied_domains: domains.optional(),
    include_recommended_allowed: z.boolean().optional(),
    allow_all_unix_sockets: z.boolean().optional(),
  })
  .strict();

export type ProjectNetworkPolicy = z.infer<typeof NetworkPolicySchema>;

/** The keys flow-sandbox reads; the file has others (setup scripts, caches). */
export const AgentConfigSchema = z
  .object({
    image: z.string().min(1).optional(),
    network_policy: NetworkPolicySchema.nullish(),
  })
  .passthrough();

export type AgentConfig = z.infer<typeof AgentConfigSchema>;

const LIST_FORM = `a list of at most ${MAX_PROJECT_ENTRIES} host, *.host, IP or CIDR entries, each optionally with :PORT`;

/** Accepted form of each field, for error messages. */
export const AGENT_CONFIG_FORMS: Record<string, string> = {
  '': 'a YAML mapping',
  image: 'a non-empty string naming a container image',
  network_policy:
    'a mapping with allowed_domains, denied_domains, include_recommended_allowed, allow_all_unix_sockets',
  'network_policy.*':
    'allowed_domains, denied_domains, include_recommended_allowed, allow_all_unix_sockets',
  'network_policy.allowed_domains': LIST_FORM,
  'network_policy.denied_domains': LIST_FORM,
  'network_policy.include_recommended_allowed': 'true or false',
  'network_policy.allow_all_unix_sockets': 'true or false',
};

/** Parses agent-config text; a broken file is an error, not "no config". */
export async function parseAgentConfig(
  text: string,
  label: string,
): Promise<AgentConfig> {
  const data = await parseYamlDocument(text, label, 'a YAML mapping');
  if (data === null || data === undefined) return {};
  return validateDocument(AgentConfigSchema, data, label, AGENT_CONFIG_FORMS);
}

/** Reads the agent configuration text from a checkout, or undefined if absent. */
export async function readAgentConfigText(
  cwd: string,
): Promise<string | undefined> {
  const file = path.join(cwd, AGENT_CONFIG_PATH);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SandboxError(
      'CONFIG_INVALID',
      `${file}: cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Reads the agent configuration from a checkout's working tree, or undefined if absent. */
export async function readAgentConfig(
  cwd: string,
): Promise<AgentConfig | undefined> {
  const text = await readAgentConfigText(cwd);
  return text === undefined
    ? undefined
    : parseAgentConfig(text, AGENT_CONFIG_PATH);
}
