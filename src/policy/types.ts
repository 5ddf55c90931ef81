/** Where a rule came from, shown in the dry run and the report. */
export interface RuleSource {
  kind:
    | 'default'
    | 'operator'
    | 'project'
    | 'recommended'
    | 'config'
    | 'flag'
    | 'env';
  /** e.g. `CI_SERVER_HOST`, `policy.yml: network.allow[2]`, `--allow`. */
  origin: string;
}

/** A name rule: an exact host, or every name strictly below `host`. */
export interface HostRule {
  kind: 'host';
  host: string;
  wildcard: boolean;
  port?: number;
  raw: string;
  source: RuleSource;
}

/** An address rule: one IP (as /32 or /128) or a CIDR block. */
export interface AddressRule {
  kind: 'address';
  family: 4 | 6;
  /** Network address in canonical text form. */
  address: string;
  prefix: number;
  port?: number;
  raw: string;
  source: RuleSource;
}

export type NetworkRule = HostRule | AddressRule;

/** An absolute, normalised path with its source. */
export interface PathRule {
  path: string;
  raw: string;
  source: RuleSource;
}

/** A boolean setting with the source that decided it. */
export interface Setting<T> {
  value: T;
  source: RuleSource;
}

/** A rule a source asked for that a stronger source refused. */
export interface RefusedRule {
  raw: string;
  field: string;
  source: RuleSource;
  reason: string;
}

export interface NetworkPolicy {
  allow: NetworkRule[];
  deny: NetworkRule[];
  unixSockets: PathRule[];
  /**
   * Sockets no source may open: left out of `unixSockets`, and hidden even
   * where every socket is allowed (deny wins, as for network entries).
   */
  denyUnixSockets: PathRule[];
  allowAllUnixSockets: Setting<boolean>;
  allowLocalBinding: Setting<boolean>;
}

export interface FilesystemPolicy {
  denyRead: PathRule[];
  allowWrite: PathRule[];
  denyWrite: PathRule[];
  allowGitConfig: Setting<boolean>;
}

/** The merged, validated policy every engine plans from. */
export interface Policy {
  network: NetworkPolicy;
  filesystem: FilesystemPolicy;
  refused: RefusedRule[];
}

/** Text form of a network rule, as a user would write it. */
export function formatRule(rule: NetworkRule): string {
  const port = rule.port === undefined ? '' : `:${rule.port}`;
  if (rule.kind === 'host') {
    return `${rule.wildcard ? '*.' : ''}${rule.host}${port}`;
  }
  const single = rule.prefix === (rule.family === 4 ? 32 : 128);
  const addr = single ? rule.address : `${rule.address}/${rule.prefix}`;
  return rule.family === 6 && port ? `[${addr}]${port}` : `${addr}${port}`;
}
