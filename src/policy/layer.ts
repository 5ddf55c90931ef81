import { parseNetworkEntry } from './entries.js';
import type { PathBase } from './paths.js';
import { parsePath } from './paths.js';
import type { PolicyFile } from './schema.js';
import type {
  NetworkRule,
  PathRule,
  Policy,
  RuleSource,
  Setting,
} from './types.js';

/** What one source adds to the policy, already validated. */
export interface PolicyLayer {
  allow: NetworkRule[];
  deny: NetworkRule[];
  unixSockets: PathRule[];
  denyUnixSockets: PathRule[];
  allowAllUnixSockets?: Setting<boolean>;
  allowLocalBinding?: Setting<boolean>;
  denyRead: PathRule[];
  allowWrite: PathRule[];
  denyWrite: PathRule[];
  allowGitConfig?: Setting<boolean>;
}

export function emptyLayer(): PolicyLayer {
  return {
    allow: [],
    deny: [],
    unixSockets: [],
    denyUnixSockets: [],
    denyRead: [],
    allowWrite: [],
    denyWrite: [],
  };
}

/** Builds a layer from a parsed policy file; `label` prefixes each rule's origin. */
export function layerFromFile(
  file: PolicyFile,
  label: string,
  kind: RuleSource['kind'],
  base: PathBase,
): PolicyLayer {
  const at = (field: string, i?: number): RuleSource => ({
    kind,
    origin: i === undefined ? `${label}: ${field}` : `${label}: ${field}[${i}]`,
  });
  // The origin names the entry, so it is also the field an error names.
  const hosts = (field: string, values: string[] = []) =>
    values.map((v, i) => {
      const source = at(field, i);
      return parseNetworkEntry(
        v,
        source.origin,
        source,
        field.endsWith('deny') ? 'deny' : 'allow',
      );
    });
  const paths = (field: string, values: string[] = []) =>
    values.map((v, i) => {
      const source = at(field, i);
      return parsePath(v, source.origin, base, source);
    });
  const flag = (field: string, value: boolean | undefined) =>
    value === undefined ? undefined : { value, source: at(field) };
  const net = file.network ?? {};
  const fs = file.filesystem ?? {};
  return {
    allow: hosts('network.allow', net.allow),
    deny: hosts('network.deny', net.deny),
    unixSockets: paths('network.unix_sockets', net.unix_sockets),
    denyUnixSockets: paths('network.deny_unix_sockets', net.deny_unix_sockets),
    allowAllUnixSockets: flag(
      'network.allow_all_unix_sockets',
      net.allow_all_unix_sockets,
    ),
    allowLocalBinding: flag(
      'network.allow_local_binding',
      net.allow_local_binding,
    ),
    denyRead: paths('filesystem.deny_read', fs.deny_read),
    allowWrite: paths('filesystem.allow_write', fs.allow_write),
    denyWrite: paths('filesystem.deny_write', fs.deny_write),
    allowGitConfig: flag('filesystem.allow_git_config', fs.allow_git_config),
  };
}

/** A list that keeps the first of each key, as sources are added in order. */
class UniqueList<T> {
  readonly items: T[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly key: (item: T) => string) {}

  add(items: readonly T[]): this {
    for (const item of items) {
      const k = this.key(item);
      if (this.seen.has(k)) continue;
      this.seen.add(k);
      this.items.push(item);
    }
    return this;
  }
}

const ruleKey = (r: NetworkRule) =>
  `${r.kind === 'host' ? `${r.wildcard ? '*.' : ''}${r.host}` : `${r.address}/${r.prefix}`}:${r.port ?? ''}`;

const pathKey = (p: PathRule) => p.path;

/**
 * Adds layers on top of a policy, in order: lists extend (the first source
 * of a duplicate is kept), settings override. One pass however many
 * layers: each rule's key is computed once.
 */
export function applyLayers(
  policy: Policy,
  layers: readonly PolicyLayer[],
): Policy {
  const n = policy.network;
  const f = policy.filesystem;
  const lists = {
    allow: new UniqueList(ruleKey).add(n.allow),
    deny: new UniqueList(ruleKey).add(n.deny),
    unixSockets: new UniqueList(pathKey).add(n.unixSockets),
    denyUnixSockets: new UniqueList(pathKey).add(n.denyUnixSockets),
    denyRead: new UniqueList(pathKey).add(f.denyRead),
    allowWrite: new UniqueList(pathKey).add(f.allowWrite),
    denyWrite: new UniqueList(pathKey).add(f.denyWrite),
  };
  let { allowAllUnixSockets, allowLocalBinding } = n;
  let { allowGitConfig } = f;
  for (const layer of layers) {
    lists.allow.add(layer.allow);
    lists.deny.add(layer.deny);
    lists.unixSockets.add(layer.unixSockets);
    lists.denyUnixSockets.add(layer.denyUnixSockets);
    lists.denyRead.add(layer.denyRead);
    lists.allowWrite.add(layer.allowWrite);
    lists.denyWrite.add(layer.denyWrite);
    allowAllUnixSockets = layer.allowAllUnixSockets ?? allowAllUnixSockets;
    allowLocalBinding = layer.allowLocalBinding ?? allowLocalBinding;
    allowGitConfig = layer.allowGitConfig ?? allowGitConfig;
  }
  return {
    network: {
      allow: lists.allow.items,
      deny: lists.deny.items,
      unixSockets: lists.unixSockets.items,
      denyUnixSockets: lists.denyUnixSockets.items,
      allowAllUnixSockets,
      allowLocalBinding,
    },
    filesystem: {
      denyRead: lists.denyRead.items,
      allowWrite: lists.allowWrite.items,
      denyWrite: lists.denyWrite.items,
      allowGitConfig,
    },
    refused: policy.refused,
  };
}

/** Adds one layer on top of a policy (see applyLayers). */
export function applyLayer(policy: Policy, layer: PolicyLayer): Policy {
  return applyLayers(policy, [layer]);
}
