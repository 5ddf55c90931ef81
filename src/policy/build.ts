import { readFile } from 'node:fs/promises';
import { SandboxError } from '../errors.js';
import { defaultPolicy } from './defaults.js';
import { parseNetworkEntry } from './entries.js';
import {
  applyLayer,
  emptyLayer,
  layerFromFile,
  type PolicyLayer,
} from './layer.js';
import { parsePolicyFile } from './load.js';
import type { PathBase } from './paths.js';
import type { Policy, RuleSource } from './types.js';

/** Entries given on the command line or in the environment, with their origin. */
export interface EntryList {
  entries: string[];
  source: RuleSource;
}

export interface PolicyRequest {
  env: Record<string, string | undefined>;
  base: PathBase;
  /** `--config` (or FLOW_SANDBOX_CONFIG): a YAML policy file. */
  configFile?: string;
  allow: EntryList[];
  deny: EntryList[];
}

/** Reads a policy file into a layer; a missing or broken file is an error. */
export async function loadPolicyFile(
  file: string,
  kind: RuleSource['kind'],
  base: PathBase,
): Promise<PolicyLayer> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SandboxError(
      'CONFIG_INVALID',
      `policy file ${file} cannot be read: ${(error as Error).message}; expected a readable YAML file`,
      { cause: error, context: { field: 'config', value: file } },
    );
  }
  return layerFromFile(await parsePolicyFile(text, file), file, kind, base);
}

function entriesLayer(allow: EntryList[], deny: EntryList[]): PolicyLayer {
  const layer = emptyLayer();
  const parse = (purpose: 'allow' | 'deny') => (list: EntryList) =>
    list.entries.map((e) =>
      parseNetworkEntry(e, list.source.origin, list.source, purpose),
    );
  layer.allow = allow.flatMap(parse('allow'));
  layer.deny = deny.flatMap(parse('deny'));
  return layer;
}

/** Defaults from the CI environment, then the policy file, then flags. */
export async function buildPolicy(request: PolicyRequest): Promise<Policy> {
  let policy = defaultPolicy(request.env, request.base);
  if (request.configFile) {
    policy = applyLayer(
      policy,
      await loadPolicyFile(request.configFile, 'config', request.base),
    );
  }
  return applyLayer(policy, entriesLayer(request.allow, request.deny));
}
