import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SandboxError } from '../errors.js';
import { parseYamlText, yamlErrorLine } from './load.js';

/** Where GitLab keeps a project's agent configuration. */
export const AGENT_CONFIG_PATH = '.gitlab/duo/agent-config.yml';

/** The keys flow-sandbox reads; the file has others (setup scripts, caches). */
export const AgentConfigSchema = z
  .object({
    image: z.string().min(1).optional(),
  })
  .passthrough();

export type AgentConfig = z.infer<typeof AgentConfigSchema>;

/** Parses agent-config text; a broken file is an error, not "no config". */
export async function parseAgentConfig(
  text: string,
  label: string,
): Promise<AgentConfig> {
  let data: unknown;
  try {
    data = await parseYamlText(text);
  } catch (error) {
    throw new SandboxError(
      'CONFIG_INVALID',
      `${label}: not valid YAML: ${yamlErrorLine(error)}; expected a YAML mapping`,
      { cause: error },
    );
  }
  if (data === null || data === undefined) return {};
  const result = AgentConfigSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new SandboxError(
      'CONFIG_INVALID',
      `${label}: ${issue.path.join('.') || '(top level)'}: ${issue.message}; expected a mapping whose image, if set, is a non-empty string`,
    );
  }
  return result.data;
}

/** Reads the agent configuration from a checkout, or undefined if absent. */
export async function readAgentConfig(
  cwd: string,
): Promise<AgentConfig | undefined> {
  const file = path.join(cwd, AGENT_CONFIG_PATH);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SandboxError(
      'CONFIG_INVALID',
      `${file}: cannot be read: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return parseAgentConfig(text, AGENT_CONFIG_PATH);
}
