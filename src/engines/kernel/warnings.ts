import {
  formatRule,
  type NetworkRule,
  type Policy,
} from '../../policy/types.js';
import type { KernelPlan } from './plan.js';
import { namesThisHost } from '../../policy/match.js';
import ipaddr from 'ipaddr.js';

// IPv4 text to a number; rules hold canonical dotted quads.
const v4Number = (text: string) =>
  text.split('.').reduce((n, part) => n * 256 + Number(part), 0);

/**
 * The address rules that share an address with one of the blocks. Rules
 * are many (10,000 in a large policy): IPv4 ones are compared as numbers,
 * without the parser.
 */
function overlapping(rules: readonly NetworkRule[], blocks: string[]) {
  const parsed = blocks.map((b) => ipaddr.parseCIDR(b));
  const v4 = parsed
    .filter(([net]) => net.kind() === 'ipv4')
    .map(([net, bits]) => ({ base: v4Number(net.toString()), bits }));
  const within = (a: number, b: number, bits: number) =>
    bits === 0 ||
    Math.floor(a / 2 ** (32 - bits)) === Math.floor(b / 2 ** (32 - bits));
  return rules.filter((rule) => {
    if (rule.kind !== 'address') return false;
    if (rule.family === 4) {
      const value = v4Number(rule.address);
      return v4.some((b) =>
        within(value, b.base, Math.min(b.bits, rule.prefix)),
      );
    }
    const addr = ipaddr.parse(rule.address);
    return parsed.some(
      ([net, bits]) =>
        net.kind() === 'ipv6' && addr.match(net, Math.min(bits, rule.prefix)),
    );
  });
}

/** Where the kernel engine cannot carry out the policy exactly, in words (pure). */
export function kernelWarnings(policy: Policy, plan: KernelPlan): string[] {
  const warnings: string[] = [];
  const network = policy.network;
  const portNames = network.allow.filter(
    (r) => r.kind === 'host' && r.port !== undefined,
  );
  if (portNames.length > 0) {
    warnings.push(
      `name rules with a port (${portNames.map(formatRule).join(', ')}) are enforced per address the name resolves to: a CDN address shared with other sites serves all of them on that port (the name inside the connection, Host or SNI, is not checked)`,
    );
  }
  const portDenies = network.deny.filter(
    (r) => r.kind === 'host' && r.port !== undefined,
  );
  if (portDenies.length > 0) {
    warnings.push(
      `deny rules with a port (${portDenies.map(formatRule).join(', ')}) close that port on the addresses the name resolves to, not on the same addresses reached as literals or under other allowed names`,
    );
  }
  const { standIn } = plan.dns;
  const shadowed = overlapping(
    [...network.allow, ...network.deny],
    [standIn.v4, standIn.v6],
  );
  if (shadowed.length > 0) {
    warnings.push(
      `${shadowed.map(formatRule).join(', ')} overlap the stand-in addresses (${standIn.v4}, ${standIn.v6}) that answer allowed names: where the resolver hands one out, it leads to that name's address instead`,
    );
  }
  if (network.allow.some(namesThisHost)) {
    warnings.push(
      "localhost is the sandbox's own loopback: servers the command starts are reachable, services on the runner's loopback are not (an allow entry for localhost or 127.0.0.1 opens nothing on the runner; reach a runner service by an address of the runner's, such as host.docker.internal)",
    );
  }
  if (!network.allowLocalBinding.value) {
    warnings.push(
      'allow_local_binding: false is not enforced: the command can always listen inside its own network namespace, where nothing outside the sandbox can connect',
    );
  }
  if (plan.mounts.sockets.hide) {
    const allowed = network.unixSockets.map((r) => r.path).join(', ');
    warnings.push(
      `${allowed ? `Unix sockets other than ${allowed}` : 'All Unix sockets'} are hidden where found when the run starts (${plan.mounts.sockets.roots.map((r) => `${r.path}, ${r.depth} levels`).join('; ')}); sockets elsewhere or created later stay reachable`,
    );
  } else if (network.denyUnixSockets.length > 0) {
    warnings.push(
      `every Unix socket is allowed except ${network.denyUnixSockets.map((r) => r.path).join(', ')}, hidden at that path; another path to the same socket (a hard link, a bind mount) stays reachable`,
    );
  }
  warnings.push(
    'protected files (.bashrc, .git/hooks, ...) are write-protected at the top of the working directory only, not in subdirectories',
  );
  if (plan.firewall.backend === 'iptables') {
    warnings.push(
      'iptables backend: rejected traffic is counted in total, not per destination; each learned address is a rule of its own, slower than nft sets with many addresses',
    );
    if (!plan.tools['ip6tables-restore']) {
      warnings.push(
        'ip6tables-restore was not found: IPv6 is switched off inside the sandbox (fails closed), so IPv6-only destinations are unreachable',
      );
    }
  }
  return warnings;
}
