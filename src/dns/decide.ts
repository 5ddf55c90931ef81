import type { AddressGrant } from '../firewall/spec.js';
import { canonicalQueryName } from '../policy/names.js';
import type { HostRule, NetworkPolicy } from '../policy/types.js';

type Rules = Pick<NetworkPolicy, 'allow' | 'deny'>;

/** Which ports a name's addresses may be used on, per the policy. */
export interface Allowance {
  ports: 'any' | number[];
  /** Ports a deny rule closes while other ports stay open. */
  denyPorts: number[];
}

/**
 * The policy's name rules, indexed by exact name and by wildcard parent:
 * a lookup costs a few map reads however long the lists are. Matching is
 * that of policy/match.ts: `*.x` covers every name strictly below x.
 */
export class NameRules {
  private readonly index = {
    allow: {
      exact: new Map<string, HostRule[]>(),
      below: new Map<string, HostRule[]>(),
    },
    deny: {
      exact: new Map<string, HostRule[]>(),
      below: new Map<string, HostRule[]>(),
    },
  };

  constructor(policy: Rules) {
    for (const list of ['allow', 'deny'] as const) {
      for (const rule of policy[list]) {
        if (rule.kind !== 'host') continue;
        const map = rule.wildcard
          ? this.index[list].below
          : this.index[list].exact;
        const rules = map.get(rule.host) ?? [];
        map.set(rule.host, rules);
        rules.push(rule);
      }
    }
  }

  /** The rules of a list that cover a canonical name, whatever their port. */
  matching(list: 'allow' | 'deny', name: string): HostRule[] {
    const { exact, below } = this.index[list];
    const found = [...(exact.get(name) ?? [])];
    for (
      let dot = name.indexOf('.');
      dot !== -1;
      dot = name.indexOf('.', dot + 1)
    ) {
      found.push(...(below.get(name.slice(dot + 1)) ?? []));
    }
    return found;
  }
}

/**
 * The ports a name's addresses open, or undefined when the name is refused
 * outright. Deny wins: a deny rule without a port refuses the name, one
 * with a port closes that port.
 */
export function allowanceFor(
  rules: NameRules,
  raw: string,
): Allowance | undefined {
  const name = canonicalQueryName(raw);
  if (!name) return undefined;
  const denies = rules.matching('deny', name);
  if (denies.some((rule) => rule.port === undefined)) return undefined;
  const allows = rules.matching('allow', name);
  if (allows.length === 0) return undefined;
  const denied = new Set(denies.map((rule) => rule.port!));
  if (allows.some((rule) => rule.port === undefined)) {
    return { ports: 'any', denyPorts: [...denied].sort((a, b) => a - b) };
  }
  const ports = [...new Set(allows.map((rule) => rule.port!))]
    .filter((port) => !denied.has(port))
    .sort((a, b) => a - b);
  return ports.length ? { ports, denyPorts: [] } : undefined;
}

/**
 * Whether a name in an answer's CNAME chain is denied outright: an allowed
 * alias must not open the addresses of a name the policy denies.
 */
export function chainNameDenied(rules: NameRules, raw: string): boolean {
  const name = canonicalQueryName(raw);
  return (
    !!name &&
    rules.matching('deny', name).some((rule) => rule.port === undefined)
  );
}

/** The firewall grants for a name's addresses (pure). */
export function grantsFor(options: {
  allowance: Allowance;
  addresses: Array<{ family: 4 | 6; address: string; ttl?: number }>;
  ttlFloorSec: number;
  /** Addresses from the hosts file stay open for the whole run. */
  permanent?: boolean;
}): AddressGrant[] {
  const { allowance, addresses, ttlFloorSec, permanent } = options;
  return addresses.map(({ family, address, ttl }) => {
    const grant: AddressGrant = { family, address, ...allowance };
    return permanent
      ? grant
      : { ...grant, timeoutSec: Math.max(ttl ?? 0, ttlFloorSec) };
  });
}
