import ipaddr from 'ipaddr.js';
import type { KernelNames } from '../netns/names.js';
import type { RunSubnet } from '../netns/pool.js';
import type { NetworkPolicy, NetworkRule } from '../policy/types.js';

/** Firewall backends; both enforce the same rules. */
export const FIREWALL_BACKENDS = ['nft', 'iptables'] as const;
export type FirewallBackend = (typeof FIREWALL_BACKENDS)[number];

/** One IP literal or CIDR block from the policy, with its port if the rule has one. */
export interface StaticEntry {
  family: 4 | 6;
  /** `198.18.0.5` or `198.18.0.0/24`: single addresses without a prefix. */
  cidr: string;
  port?: number;
}

/** Everything a backend needs to render the run's rules (pure data). */
export interface FirewallSpec {
  names: KernelNames;
  subnet: RunSubnet;
  /** False only when IPv6 cannot be filtered (iptables without ip6tables). */
  ipv6: boolean;
  allow: StaticEntry[];
  deny: StaticEntry[];
}

/** An address the resolver learned, and on which ports it may be used. */
export interface AddressGrant {
  family: 4 | 6;
  /** The address opened: a stand-in (with `target`), or the real one. */
  address: string;
  /** The real address a stand-in is translated to (src/dns/stand-in.ts). */
  target?: string;
  /** 'any', or the ports of the port-scoped rules that matched the name. */
  ports: 'any' | number[];
  /** Ports a deny rule with a port closes for this name. */
  denyPorts: number[];
  /** Seconds until the grant lapses; undefined: for the whole run. */
  timeoutSec?: number;
}

function entryFor(rule: NetworkRule): StaticEntry | undefined {
  if (rule.kind !== 'address') return undefined;
  const full = rule.prefix === (rule.family === 4 ? 32 : 128);
  const cidr = full ? rule.address : `${rule.address}/${rule.prefix}`;
  return rule.port === undefined
    ? { family: rule.family, cidr }
    : { family: rule.family, cidr, port: rule.port };
}

function parse(entry: StaticEntry): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  if (entry.cidr.includes('/')) return ipaddr.parseCIDR(entry.cidr);
  return [ipaddr.parse(entry.cidr), entry.family === 4 ? 32 : 128];
}

function networkKey(addr: ipaddr.IPv4 | ipaddr.IPv6, bits: number): string {
  const net =
    addr.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${addr.toString()}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${addr.toString()}/${bits}`);
  return `${net.toString()}/${bits}`;
}

/**
 * Drops entries inside another entry of the same family and port: interval
 * sets refuse overlapping elements, and a covered entry adds nothing. CIDR
 * blocks either nest or are disjoint, so checking each entry's supernets at
 * the prefix lengths present is enough (linear in the entries).
 */
export function withoutCovered(entries: readonly StaticEntry[]): StaticEntry[] {
  const groups = new Map<
    string,
    Array<{
      entry: StaticEntry;
      bits: number;
      key: string;
      addr: ipaddr.IPv4 | ipaddr.IPv6;
    }>
  >();
  for (const entry of entries) {
    const [addr, bits] = parse(entry);
    const group = `${entry.family}:${entry.port ?? ''}`;
    const list = groups.get(group) ?? [];
    list.push({ entry, bits, key: networkKey(addr, bits), addr });
    groups.set(group, list);
  }
  const kept: StaticEntry[] = [];
  for (const list of groups.values()) {
    const keys = new Set(list.map((item) => item.key));
    const prefixes = [...new Set(list.map((item) => item.bits))].sort(
      (a, b) => a - b,
    );
    const seen = new Set<string>();
    for (const item of list) {
      if (seen.has(item.key)) continue;
      seen.add(item.key);
      const covered = prefixes.some(
        (bits) => bits < item.bits && keys.has(networkKey(item.addr, bits)),
      );
      if (!covered) kept.push(item.entry);
    }
  }
  return kept;
}

type Rules = Pick<NetworkPolicy, 'allow' | 'deny'>;
type Entries = { allow: StaticEntry[]; deny: StaticEntry[] };

// A run plans twice from the same policy (the plan it shows, then with the
// address slot it claims): with 10,000 entries the second pass is worth
// saving. Policies are never changed once merged.
const computed = new WeakMap<Rules, Entries>();

/**
 * The policy's IP and CIDR rules as set entries (pure). Single addresses
 * are only made unique (they go to hash sets, where an address inside an
 * allowed block does no harm); blocks lose those covered by another.
 */
export function staticEntries(policy: Rules): Entries {
  let entries = computed.get(policy);
  if (!entries) {
    entries = sortStatic(policy);
    computed.set(policy, entries);
  }
  return entries;
}

function sortStatic(policy: Rules): Entries {
  const pick = (rules: NetworkRule[]) => {
    const blocks: StaticEntry[] = [];
    const singles: StaticEntry[] = [];
    const seen = new Set<string>();
    for (const rule of rules) {
      const entry = entryFor(rule);
      if (!entry) continue;
      if (entry.cidr.includes('/')) {
        blocks.push(entry);
        continue;
      }
      const key = `${entry.cidr} ${entry.port ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      singles.push(entry);
    }
    return [...withoutCovered(blocks), ...singles];
  };
  return { allow: pick(policy.allow), deny: pick(policy.deny) };
}
