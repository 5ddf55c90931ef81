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
  const hosts = (field: string, values: string[] = []) =>
    values.map((v, i) =>
      parseNetworkEntry(
        v,
        `${label}: ${field}[${i}]`,
        at(field, i),
        field.endsWith('deny') ? 'deny' : 'allow',
      ),
    );
  const paths = (field: string, values: string[] = []) =>
    values.map((v, i) =>
      parsePath(v, `${label}: ${field}[${i}]`, base, at(field, i)),
    );
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

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const ruleKey = (r: NetworkRule) =>
  `${r.kind === 'host' ? `${r.wildcard ? '*.' : ''}${r.host}` : `${r.address}/${r.prefix}`}:${r.port ?? ''}`;

/** Adds a layer on top of a policy: lists extend (first source kept), settings override. */
export function applyLayer(policy: Policy, layer: PolicyLayer): Policy {
  const n = policy.network;
  const f = policy.filesystem;
  return {
    network: {
      allow: uniqueBy([...n.allow, ...layer.allow], ruleKey),
      deny: uniqueBy([...n.deny, ...layer.deny], ruleKey),
      unixSockets: uniqueBy(
        [...n.unixSockets, ...layer.unixSockets],
        (p) => p.path,
      ),
      denyUnixSockets: uniqueBy(
        [...n.denyUnixSockets, ...layer.denyUnixSockets],
        (p) => p.path,
      ),
      allowAllUnixSockets: layer.allowAllUnixSockets ?? n.allowAllUnixSockets,
      allowLocalBinding: layer.allowLocalBinding ?? n.allowLocalBinding,
    },
    filesystem: {
      denyRead: uniqueBy([...f.denyRead, ...layer.denyRead], (p) => p.path),
      allowWrite: uniqueBy(
        [...f.allowWrite, ...layer.allowWrite],
        (p) => p.path,
      ),
      denyWrite: uniqueBy([...f.denyWrite, ...layer.denyWrite], (p) => p.path),
      allowGitConfig: layer.allowGitConfig ?? f.allowGitConfig,
    },
    refused: policy.refused,
  };
}
