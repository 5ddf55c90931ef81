import ipaddr from 'ipaddr.js';
import { canonicalQueryName } from '../policy/names.js';

/** The runner's resolver settings that matter to the sandbox. */
export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

/** Parses resolv.conf: nameservers in order, the last search line, all options. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...values] = line.split(/\s+/);
    if (key === 'nameserver' && values[0]) {
      // A link-local scope (fe80::1%eth0) does not parse as an address.
      const address = values[0].split('%')[0]!;
      if (ipaddr.isValid(address)) conf.nameservers.push(address);
    } else if (key === 'search' || key === 'domain') {
      conf.search = values;
    } else if (key === 'options') {
      conf.options.push(...values);
    }
  }
  return conf;
}

/**
 * The sandbox's resolv.conf: only flow-sandbox's resolver, with the
 * runner's search list and options, so short names resolve as they would
 * outside.
 */
export function renderSandboxResolvConf(
  resolver: string,
  runner: ResolvConf,
): string {
  const lines = [
    '# flow-sandbox: the only DNS server this sandbox can reach',
    `nameserver ${resolver}`,
    ...(runner.search.length ? [`search ${runner.search.join(' ')}`] : []),
    ...(runner.options.length ? [`options ${runner.options.join(' ')}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** Addresses per name from a hosts file, in file order. */
export type HostsTable = Map<string, { 4: string[]; 6: string[] }>;

/** Parses /etc/hosts; names are canonical, odd lines are skipped. */
export function parseHosts(text: string): HostsTable {
  const table: HostsTable = new Map();
  for (const raw of text.split('\n')) {
    const [address, ...names] = raw.replace(/#.*$/, '').trim().split(/\s+/);
    if (!address || names.length === 0 || !ipaddr.isValid(address)) continue;
    let ip = ipaddr.parse(address);
    if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
      ip = (ip as ipaddr.IPv6).toIPv4Address();
    }
    const family = ip.kind() === 'ipv4' ? 4 : 6;
    for (const name of names) {
      const canonical = canonicalQueryName(name);
      if (!canonical) continue;
      const entry = table.get(canonical) ?? { 4: [], 6: [] };
      const text = ip.toString();
      if (!entry[family].includes(text)) entry[family].push(text);
      table.set(canonical, entry);
    }
  }
  return table;
}
