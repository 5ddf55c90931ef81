import ipaddr from 'ipaddr.js';
import { parseAddress } from './entries.js';
import { canonicalQueryName } from './names.js';
import type { NetworkPolicy, NetworkRule } from './types.js';

/** A destination a client asks for: a name or an IP literal, and a port. */
export interface Destination {
  host: string;
  port?: number;
}

export interface Verdict {
  allowed: boolean;
  /** The rule that decided it; absent when nothing matched (default deny). */
  rule?: NetworkRule;
}

function portMatches(rule: NetworkRule, port: number | undefined): boolean {
  return rule.port === undefined || rule.port === port;
}

/** Whether one rule covers a destination (name rules never cover IPs). */
export function ruleMatches(rule: NetworkRule, dest: Destination): boolean {
  if (!portMatches(rule, dest.port)) return false;
  const address = parseAddress(dest.host.replace(/^\[|\]$/g, ''));
  if (address) {
    if (rule.kind !== 'address' || rule.family !== address.family) return false;
    const ip = ipaddr.parse(address.address);
    return ip.match(ipaddr.parse(rule.address), rule.prefix);
  }
  if (rule.kind !== 'host') return false;
  const name = canonicalQueryName(dest.host);
  if (!name) return false;
  return rule.wildcard ? name.endsWith(`.${rule.host}`) : name === rule.host;
}

/** The policy's verdict for a destination: deny entries win over allow entries. */
export function judge(
  policy: Pick<NetworkPolicy, 'allow' | 'deny'>,
  dest: Destination,
): Verdict {
  const denied = policy.deny.find((rule) => ruleMatches(rule, dest));
  if (denied) return { allowed: false, rule: denied };
  const allowed = policy.allow.find((rule) => ruleMatches(rule, dest));
  return allowed ? { allowed: true, rule: allowed } : { allowed: false };
}

/** Whether a name could be allowed on some port (the DNS resolver's question). */
export function nameMayBeAllowed(
  policy: Pick<NetworkPolicy, 'allow' | 'deny'>,
  name: string,
): boolean {
  const denyAll = policy.deny.some(
    (rule) => rule.port === undefined && ruleMatches(rule, { host: name }),
  );
  if (denyAll) return false;
  return policy.allow.some((rule) =>
    ruleMatches({ ...rule, port: undefined }, { host: name }),
  );
}

/**
 * Rules that name this machine: `localhost` (and names below it, RFC 6761),
 * loopback and unspecified addresses. Inside either engine's sandbox they
 * name the sandbox's own loopback, never the runner's: SRT never passes
 * them to its proxies (which run in the runner's namespace), and the
 * kernel engine's namespace has a loopback of its own.
 */
export function namesThisHost(rule: NetworkRule): boolean {
  if (rule.kind === 'host') {
    return rule.host === 'localhost' || rule.host.endsWith('.localhost');
  }
  if (rule.family === 4) {
    return rule.address.startsWith('127.') || rule.address === '0.0.0.0';
  }
  return rule.address === '::1' || rule.address === '::';
}
