import type { AddressGrant, FirewallSpec, StaticEntry } from './spec.js';

type Family = 4 | 6;

/** The run's own chains; the jumps into them are the only rules outside. */
export function iptablesChains(prefix: string) {
  return {
    out: `${prefix}-out`,
    in: `${prefix}-in`,
    to: `${prefix}-to`,
    learned: `${prefix}-dyn`,
    learnedDeny: `${prefix}-dyd`,
    reject: `${prefix}-rej`,
    nat: `${prefix}-nat`,
    /** nat table, PREROUTING: stand-ins to the real addresses. */
    standIn: `${prefix}-via`,
  };
}

const REJECT_WITH = { 4: 'icmp-admin-prohibited', 6: 'icmp6-adm-prohibited' };
const HOST_BITS = { 4: 32, 6: 128 };

/** The restore programs, always with --noflush: without it they wipe every table they touch. */
export const IPTABLES_RESTORE = {
  4: ['iptables-restore', '--noflush', '--wait'],
  6: ['ip6tables-restore', '--noflush', '--wait'],
} as const;

function match(entry: Pick<StaticEntry, 'cidr' | 'port' | 'family'>): string {
  const cidr = entry.cidr.includes('/')
    ? entry.cidr
    : `${entry.cidr}/${HOST_BITS[entry.family]}`;
  // Only TCP ever passes, so every rule names it.
  const port = entry.port === undefined ? '' : ` --dport ${entry.port}`;
  return `-d ${cidr} -p tcp${port}`;
}

type Chains = ReturnType<typeof iptablesChains>;

/** The run's chains in the filter table (the others are in nat). */
function filterChains(c: Chains): string[] {
  return Object.values(c).filter(
    (name) => name !== c.nat && name !== c.standIn,
  );
}

function jumps(names: FirewallSpec['names']): {
  filter: string[];
  nat: string[];
} {
  const c = iptablesChains(names.chain);
  const h = names.hostIf;
  return {
    filter: [
      `-I FORWARD 1 -i ${h} -j ${c.out}`,
      `-I FORWARD 1 -o ${h} -j ${c.to}`,
      `-I INPUT 1 -i ${h} -j ${c.in}`,
    ],
    nat: [
      `-I POSTROUTING 1 -j ${c.nat}`,
      `-I PREROUTING 1 -i ${h} -j ${c.standIn}`,
    ],
  };
}

/**
 * One family's rules as an `iptables-restore` batch: one transaction, as
 * with nft. Learned addresses go into the -dyn and -dyd chains as the
 * resolver learns them; the counters of the -rej chain give the total of
 * rejected packets.
 */
export function renderIptables(spec: FirewallSpec, family: Family): string {
  const c = iptablesChains(spec.names.chain);
  const h = spec.names.hostIf;
  const link = family === 4 ? spec.subnet.v4 : spec.subnet.v6;
  const own = (list: StaticEntry[]) => list.filter((e) => e.family === family);
  const established = '-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT';
  const nd =
    family === 6
      ? ['neighbour-solicitation', 'neighbour-advertisement'].map(
          (type) => `-A ${c.in} -p ipv6-icmp --icmpv6-type ${type} -j ACCEPT`,
        )
      : [];
  const filter = [
    '*filter',
    ...filterChains(c).map((name) => `:${name} - [0:0]`),
    ...jumps(spec.names).filter,
    `-A ${c.in} ${established}`,
    `-A ${c.in} -d ${link.host}/${HOST_BITS[family]} -p udp --dport 53 -j ACCEPT`,
    `-A ${c.in} -d ${link.host}/${HOST_BITS[family]} -p tcp --dport 53 -j ACCEPT`,
    ...nd,
    // A stand-in never leads to the runner itself (see nft.ts).
    `-A ${c.in} -m conntrack --ctstate DNAT -j ${c.reject}`,
    ...['broadcast', 'multicast'].map(
      (type) => `-A ${c.in} -m pkttype --pkt-type ${type} -j DROP`,
    ),
    `-A ${c.in} -j ${c.out}`,
    `-A ${c.out} ${established}`,
    `-A ${c.out} ! -p tcp -j ${c.reject}`,
    ...own(spec.deny).map((e) => `-A ${c.out} ${match(e)} -j ${c.reject}`),
    `-A ${c.out} -j ${c.learnedDeny}`,
    ...own(spec.allow).map((e) => `-A ${c.out} ${match(e)} -j ACCEPT`),
    `-A ${c.out} -j ${c.learned}`,
    `-A ${c.out} -j ${c.reject}`,
    `-A ${c.to} ${established}`,
    `-A ${c.to} -j ${c.reject}`,
    `-A ${c.reject} -p tcp -j REJECT --reject-with tcp-reset`,
    `-A ${c.reject} -j REJECT --reject-with ${REJECT_WITH[family]}`,
    'COMMIT',
  ];
  const nat = [
    '*nat',
    `:${c.nat} - [0:0]`,
    `:${c.standIn} - [0:0]`,
    ...jumps(spec.names).nat,
    `-A ${c.nat} -s ${link.sandbox}/${HOST_BITS[family]} ! -o ${h} -j MASQUERADE`,
    'COMMIT',
  ];
  return `${[...filter, ...nat].join('\n')}\n`;
}

/** The batch that removes the jumps and the run's chains. */
export function renderIptablesTeardown(
  spec: Pick<FirewallSpec, 'names'>,
): string {
  const c = iptablesChains(spec.names.chain);
  const own = filterChains(c);
  const undo = (rule: string) => rule.replace(/^-I (\S+) 1 /, '-D $1 ');
  const { filter, nat } = jumps(spec.names);
  return `${[
    '*filter',
    ...filter.map(undo),
    ...own.map((name) => `-F ${name}`),
    ...own.map((name) => `-X ${name}`),
    'COMMIT',
    '*nat',
    ...nat.map(undo),
    ...[c.nat, c.standIn].map((name) => `-F ${name}`),
    ...[c.nat, c.standIn].map((name) => `-X ${name}`),
    'COMMIT',
  ].join('\n')}\n`;
}

/** A rule of the run's own, in the table it belongs to. */
export interface TableRule {
  table: 'filter' | 'nat';
  rule: string;
}

/**
 * The rules one grant adds to (`-A`) or removes from (`-D`) the learned
 * chains. Learned addresses are stand-ins: they are matched as the sandbox
 * addressed them (conntrack's original destination), and a stand-in's
 * mapping to the real address is a DNAT rule.
 */
export function iptablesGrantRules(
  prefix: string,
  grant: AddressGrant,
): TableRule[] {
  const c = iptablesChains(prefix);
  const host = `${grant.address}/${HOST_BITS[grant.family]}`;
  const on = (port?: number) =>
    `-m conntrack --ctorigdst ${host} -p tcp${port === undefined ? '' : ` --dport ${port}`}`;
  const filter = (rule: string): TableRule => ({ table: 'filter', rule });
  const dnat: TableRule[] =
    grant.target === undefined
      ? []
      : [
          {
            table: 'nat',
            rule: `${c.standIn} -d ${host} -j DNAT --to-destination ${grant.target}`,
          },
        ];
  const allow =
    grant.ports === 'any'
      ? [filter(`${c.learned} ${on()} -j ACCEPT`)]
      : grant.ports.map((port) => filter(`${c.learned} ${on(port)} -j ACCEPT`));
  const deny = grant.denyPorts.map((port) =>
    filter(`${c.learnedDeny} ${on(port)} -j ${c.reject}`),
  );
  return [...dnat, ...allow, ...deny];
}

/** A batch that appends (`-A`) or deletes (`-D`) learned rules, table by table. */
export function renderIptablesRules(
  op: '-A' | '-D',
  rules: readonly TableRule[],
): string {
  return (['filter', 'nat'] as const)
    .map((table) => rules.filter((r) => r.table === table))
    .filter((list) => list.length > 0)
    .map(
      (list) =>
        `*${list[0]!.table}\n${list.map((r) => `${op} ${r.rule}`).join('\n')}\nCOMMIT\n`,
    )
    .join('');
}
