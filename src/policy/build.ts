import type { ProjectNetworkPolicy } from './agent-config.js';
import { defaultPolicy } from './defaults.js';
import { parseNetworkEntry } from './entries.js';
import { emptyLayer, layerFromFile, type PolicyLayer } from './layer.js';
import { parsePolicyFile, readConfigFile } from './load.js';
import { mergePolicy } from './merge.js';
import type { OperatorPolicy } from './operator.js';
import type { PathBase } from './paths.js';
import type { ProjectConfig } from './project-source.js';
import { loadRecommended } from './recommended.js';
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
  /** `--operator-policy`: the strongest source. */
  operator?: OperatorPolicy;
  /** The project's agent configuration, in the version this run trusts. */
  project?: ProjectConfig;
  /** Where the recommended allowlist lives (tests point elsewhere). */
  recommendedFile?: string;
}

/** Reads a policy file into a layer; a missing or broken file is an error. */
export async function loadPolicyFile(
  file: string,
  kind: RuleSource['kind'],
  base: PathBase,
): Promise<PolicyLayer> {
  const text = await readConfigFile(
    file,
    'policy file',
    'config',
    'a readable YAML file',
  );
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

/** The project's network_policy as a layer; origins name the file's version. */
export function projectLayer(
  policy: ProjectNetworkPolicy,
  label: string,
): PolicyLayer {
  const rules = (field: 'allowed_domains' | 'denied_domains') =>
    (policy[field] ?? []).map((raw, i) => {
      const origin = `${label}: network_policy.${field}[${i}]`;
      return parseNetworkEntry(
        raw,
        origin,
        { kind: 'project', origin },
        field === 'denied_domains' ? 'deny' : 'allow',
      );
    });
  const sockets = policy.allow_all_unix_sockets;
  return {
    ...emptyLayer(),
    allow: rules('allowed_domains'),
    deny: rules('denied_domains'),
    allowAllUnixSockets:
      sockets === undefined
        ? undefined
        : {
            value: sockets,
            source: {
              kind: 'project',
              origin: `${label}: network_policy.allow_all_unix_sockets`,
            },
          },
  };
}

/** The project's layers: its network_policy, then the recommended list if it asks. */
async function projectLayers(request: PolicyRequest): Promise<PolicyLayer[]> {
  const project = request.project;
  const policy = project?.config?.network_policy;
  if (!project || !policy) return [];
  const label = project.version.label;
  const layers = [projectLayer(policy, label)];
  if (policy.include_recommended_allowed) {
    layers.push({
      ...emptyLayer(),
      allow: await loadRecommended(label, request.recommendedFile),
    });
  }
  return layers;
}

/**
 * Defaults from the CI environment, then the sources strongest first:
 * operator, project (trusted version), recommended, `--config`, flags.
 */
export async function buildPolicy(request: PolicyRequest): Promise<Policy> {
  const layers = await projectLayers(request);
  if (request.configFile) {
    layers.push(
      await loadPolicyFile(request.configFile, 'config', request.base),
    );
  }
  layers.push(entriesLayer(request.allow, request.deny));
  return mergePolicy({
    defaults: defaultPolicy(request.env, request.base),
    operator: request.operator,
    layers,
  });
}
