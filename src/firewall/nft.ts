import type { AddressGrant, FirewallSpec, StaticEntry } from './spec.js';

/** Size limits of the per-destination counting sets (oldest entries time out). */
export const REJECT_SET_SIZE = 4096;
const REJECT_SET_TIMEOUT = '1h';

type Family = 4 | 6;
const ADDR_TYPE = { 4: 'ipv4_addr', 6: 'ipv6_addr' } as const;
const PROTO = { 4: 'ip', 6: 'ip6' } as const;

/** Names of the run's sets; the resolver's writer and the report use them too. */
export const NFT_SETS = {
  allow: (f: Family) => `allow${f}`,
  allowPort: (f: Family) => `allow${f}p`,
  allowHost: (f: Family) => `host${f}`,
  allowHostPort: (f: Family) => `host${f}p`,
  deny: (f: Family) => `deny${f}`,
  denyPort: (f: Family) => `deny${f}p`,
  learned: (f: Family) => `dyn${f}`,
  learnedPort: (f: Family) => `dyn${f}p`,
  learnedDenyPort: (f: Family) => `dyndeny${f}p`,
  /** Map: stand-in address to the real one (DNAT). */
  standIn: (f: Family) => `via${f}`,
  rejected: (f: Family) => `rej${f}`,
  rejectedOther: (f: Family) => `rej${f}x`,
} as const;

/** The named counter of every rejected packet. */
export const NFT_REJECT_COUNTER = 'rejected';

function element(entry: StaticEntry): string {
  return entry.port === undefined
    ? entry.cidr
    : `${entry.cidr} . ${entry.port}`;
}

function setBlock(name: string, lines: string[]): string {
  return `\tset ${name} {\n${lines.map((l) => `\t\t${l}\n`).join('')}\t}\n`;
}

function staticSet(
  name: string,
  type: string,
  entries: StaticEntry[],
  interval: boolean,
): string {
  const elements = entries.length
    ? [`elements = {\n\t\t\t${entries.map(element).join(',\n\t\t\t')}\n\t\t}`]
    : [];
  // A hash set that is never added to is given its size: the kernel then
  // sizes its table once instead of growing it while loading (10,000
  // addresses load about 15% faster).
  const flags = interval
    ? ['flags interval']
    : entries.length
      ? [`size ${entries.length}`]
      : [];
  return setBlock(name, [`type ${type}`, ...flags, ...elements]);
}

/** A family's static entries, sorted into the sets they go to. */
interface FamilyEntries {
  blocks: StaticEntry[];
  blocksPort: StaticEntry[];
  singles: StaticEntry[];
  singlesPort: StaticEntry[];
  deny: StaticEntry[];
  denyPort: StaticEntry[];
}

// One pass over the lists, however long (not one per set).
function sortEntries(spec: FirewallSpec): Record<Family, FamilyEntries> {
  const empty = (): FamilyEntries => ({
    blocks: [],
    blocksPort: [],
    singles: [],
    singlesPort: [],
    deny: [],
    denyPort: [],
  });
  const sorted = { 4: empty(), 6: empty() };
  for (const e of spec.allow) {
    const into = sorted[e.family];
    const block = e.cidr.includes('/');
    if (e.port === undefined) (block ? into.blocks : into.singles).push(e);
    else (block ? into.blocksPort : into.singlesPort).push(e);
  }
  for (const e of spec.deny) {
    const into = sorted[e.family];
    (e.port === undefined ? into.deny : into.denyPort).push(e);
  }
  return sorted;
}

// Single addresses go to hash sets, blocks to interval sets: nft loads
// 10,000 addresses into a hash set in half the time.
function familySets(f: Family, entries: FamilyEntries): string {
  const addr = ADDR_TYPE[f];
  const pair = `${addr} . inet_service`;
  const counting = [
    `size ${REJECT_SET_SIZE}`,
    'flags dynamic,timeout',
    `timeout ${REJECT_SET_TIMEOUT}`,
  ];
  return [
    staticSet(NFT_SETS.allow(f), addr, entries.blocks, true),
    staticSet(NFT_SETS.allowPort(f), pair, entries.blocksPort, true),
    staticSet(NFT_SETS.allowHost(f), addr, entries.singles, false),
    staticSet(NFT_SETS.allowHostPort(f), pair, entries.singlesPort, false),
    staticSet(NFT_SETS.deny(f), addr, entries.deny, true),
    staticSet(NFT_SETS.denyPort(f), pair, entries.denyPort, true),
    setBlock(NFT_SETS.learned(f), [`type ${addr}`, 'flags timeout']),
    setBlock(NFT_SETS.learnedPort(f), [`type ${pair}`, 'flags timeout']),
    setBlock(NFT_SETS.learnedDenyPort(f), [`type ${pair}`, 'flags timeout']),
    `\tmap ${NFT_SETS.standIn(f)} {\n\t\ttype ${addr} : ${addr}\n\t\tflags timeout\n\t}\n`,
    setBlock(NFT_SETS.rejected(f), [
      `type ${addr} . inet_proto . inet_service`,
      ...counting,
    ]),
    setBlock(NFT_SETS.rejectedOther(f), [
      `type ${addr} . inet_proto`,
      ...counting,
    ]),
  ].join('');
}

// Policy rules judge the real destination (after DNAT); learned elements
// are stand-ins, so they judge the destination as the sandbox addressed it
// (conntrack's original direction).
function verdictRules(f: Family): string[] {
  const p = PROTO[f];
  return [
    `${p} daddr @${NFT_SETS.deny(f)} goto refuse`,
    `${p} daddr . tcp dport @${NFT_SETS.denyPort(f)} goto refuse`,
    `ct original ${p} daddr . tcp dport @${NFT_SETS.learnedDenyPort(f)} goto refuse`,
  ];
}

function acceptRules(f: Family): string[] {
  const p = PROTO[f];
  return [
    `${p} daddr @${NFT_SETS.allowHost(f)} accept`,
    `${p} daddr . tcp dport @${NFT_SETS.allowHostPort(f)} accept`,
    `${p} daddr @${NFT_SETS.allow(f)} accept`,
    `${p} daddr . tcp dport @${NFT_SETS.allowPort(f)} accept`,
    `ct original ${p} daddr @${NFT_SETS.learned(f)} accept`,
    `ct original ${p} daddr . tcp dport @${NFT_SETS.learnedPort(f)} accept`,
  ];
}

function chain(name: string, rules: string[]): string {
  return `\tchain ${name} {\n${rules.map((r) => `\t\t${r}\n`).join('')}\t}\n`;
}

/**
 * The run's whole nftables table, loaded with one `nft -f -` (one
 * transaction). It hooks only packets on the run's own veth, so other runs
 * and the runner's traffic pass untouched. Only TCP to allowed destinations
 * and DNS to the run's resolver get through; everything else is rejected at
 * once (a TCP reset, or ICMP administratively prohibited) and counted per
 * destination.
 */
export function renderNftRuleset(spec: FirewallSpec): string {
  const { table, hostIf } = spec.names;
  const iface = JSON.stringify(hostIf);
  const { v4, v6 } = spec.subnet;
  const dns = [
    `ip daddr ${v4.host} meta l4proto { tcp, udp } th dport 53 accept`,
    ...(spec.ipv6
      ? [`ip6 daddr ${v6.host} meta l4proto { tcp, udp } th dport 53 accept`]
      : []),
  ];
  const sorted = sortEntries(spec);
  const body = [
    familySets(4, sorted[4]),
    familySets(6, sorted[6]),
    `\tcounter ${NFT_REJECT_COUNTER} {\n\t}\n`,
    chain('forward', [
      'type filter hook forward priority filter; policy accept;',
      `iifname ${iface} goto sandbox_out`,
      `oifname ${iface} ct state established,related accept`,
      `oifname ${iface} goto refuse`,
    ]),
    chain('input', [
      'type filter hook input priority filter; policy accept;',
      `iifname ${iface} goto sandbox_in`,
    ]),
    chain('sandbox_in', [
      'ct state established,related accept',
      ...dns,
      // A stand-in never leads to the runner itself, whatever its name
      // resolved to when it was handed out.
      'ct status dnat goto refuse',
      'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept',
      // Link-local chatter (router solicitations, multicast reports, mDNS)
      // never leaves the host; dropped quietly, it stays out of the report.
      'meta pkttype { broadcast, multicast } drop',
      'goto sandbox_out',
    ]),
    chain('sandbox_out', [
      'ct state established,related accept',
      'meta l4proto != tcp goto refuse',
      ...verdictRules(4),
      ...verdictRules(6),
      ...acceptRules(4),
      ...acceptRules(6),
      'goto refuse',
    ]),
    chain('refuse', [
      // A full counting set makes `update` end the rule early, so the
      // verdicts sit in rules of their own.
      `meta nfproto ipv4 meta l4proto { tcp, udp } update @${NFT_SETS.rejected(4)} { ip daddr . meta l4proto . th dport counter }`,
      `meta nfproto ipv6 meta l4proto { tcp, udp } update @${NFT_SETS.rejected(6)} { ip6 daddr . meta l4proto . th dport counter }`,
      `meta nfproto ipv4 meta l4proto != { tcp, udp } update @${NFT_SETS.rejectedOther(4)} { ip daddr . meta l4proto counter }`,
      `meta nfproto ipv6 meta l4proto != { tcp, udp } update @${NFT_SETS.rejectedOther(6)} { ip6 daddr . meta l4proto counter }`,
      `meta l4proto tcp counter name ${NFT_REJECT_COUNTER} reject with tcp reset`,
      `counter name ${NFT_REJECT_COUNTER} reject with icmpx admin-prohibited`,
    ]),
    // Stand-ins the resolver handed out become the real addresses; one
    // without a mapping (never handed out, or lapsed) stays as it is and
    // is refused.
    chain('sandbox_dnat', [
      'type nat hook prerouting priority dstnat; policy accept;',
      `iifname ${iface} dnat ip to ip daddr map @${NFT_SETS.standIn(4)}`,
      ...(spec.ipv6
        ? [`iifname ${iface} dnat ip6 to ip6 daddr map @${NFT_SETS.standIn(6)}`]
        : []),
    ]),
    chain('sandbox_nat', [
      'type nat hook postrouting priority srcnat; policy accept;',
      `ip saddr ${v4.sandbox} oifname != ${iface} masquerade`,
      ...(spec.ipv6
        ? [`ip6 saddr ${v6.sandbox} oifname != ${iface} masquerade`]
        : []),
    ]),
  ].join('\n');
  return `table inet ${table} {\n${body}}\n`;
}

/** Argv that loads a ruleset or element batch from stdin. */
export const NFT_LOAD_ARGV = ['nft', '-f', '-'] as const;

/** Argv that removes the run's table. */
export function nftTeardownArgv(table: string): string[] {
  return ['nft', 'delete', 'table', 'inet', table];
}

/** One element of a learned-address set (or of the stand-in map: with a value). */
export interface NftElement {
  set: string;
  key: string;
  value?: string;
}

/** The set elements a grant needs (pure). */
export function grantElements(grant: AddressGrant): NftElement[] {
  const f = grant.family;
  const on = (set: string, port: number) => ({
    set,
    key: `${grant.address} . ${port}`,
  });
  return [
    ...(grant.target === undefined
      ? []
      : [
          { set: NFT_SETS.standIn(f), key: grant.address, value: grant.target },
        ]),
    ...(grant.ports === 'any'
      ? [{ set: NFT_SETS.learned(f), key: grant.address }]
      : grant.ports.map((port) => on(NFT_SETS.learnedPort(f), port))),
    ...grant.denyPorts.map((port) => on(NFT_SETS.learnedDenyPort(f), port)),
  ];
}

/**
 * A batch of element changes for `nft -f -`. Deleting before adding
 * refreshes a timeout: kernels before 6.10 keep an element's old timeout
 * when it is added again.
 */
export function renderNftElements(
  table: string,
  changes: {
    add: Array<NftElement & { timeoutSec?: number }>;
    remove: NftElement[];
  },
): string {
  const removes = changes.remove.map(
    (e) => `delete element inet ${table} ${e.set} { ${e.key} }\n`,
  );
  const adds = changes.add.map((e) => {
    const timeout =
      e.timeoutSec === undefined ? '' : ` timeout ${e.timeoutSec}s`;
    const value = e.value === undefined ? '' : ` : ${e.value}`;
    return `add element inet ${table} ${e.set} { ${e.key}${timeout}${value} }\n`;
  });
  return [...removes, ...adds].join('');
}
