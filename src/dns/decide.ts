import type { AddressGrant } from '../firewall/spec.js';
import { nameMayBeAllowed, ruleMatches } from '../policy/match.js';
import type { NetworkPolicy, NetworkRule } from '../policy/types.js';

type Rules = Pick<NetworkPolicy, 'allow' | 'deny'>;

/** Which ports a name's addresses may be used on, per the policy. */
export interface Allowance {
  ports: 'any' | number[];
  /** Ports a deny rule closes while other ports stay open. */
  denyPorts: number[];
}

const nameRule = (name: string) => (rule: NetworkRule) =>
  rule.kind === 'host' &&
  ruleMatches({ ...rule, port: undefined }, { host: name });

/**
 * The ports a name's addresses open, or undefined when the name is refused
 * outright. Deny wins: a deny rule without a port refuses the name, one
 * with a port closes that port.
 */
export function allowanceFor(
  policy: Rules,
  name: string,
): Allowance | undefined {
  if (!nameMayBeAllowed(policy, name)) return undefined;
  const allows = policy.allow.filter(nameRule(name));
  const denied = new Set(
    policy.deny.filter(nameRule(name)).map((rule) => rule.port!),
  );
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
export function chainNameDenied(policy: Rules, name: string): boolean {
  return policy.deny.some(
    (rule) => rule.port === undefined && ruleMatches(rule, { host: name }),
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
