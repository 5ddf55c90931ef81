import { formatRule, type Policy } from '../../policy/types.js';
import type { KernelPlan } from './plan.js';
import { namesThisHost } from '../../policy/match.js';
import ipaddr from 'ipaddr.js';

// Whether an address rule and a CIDR block share an address.
function overlaps(rule: { address: string; prefix: number }, block: string) {
  const [net, bits] = ipaddr.parseCIDR(block);
  const addr = ipaddr.parse(rule.address);
  if (addr.kind() !== net.kind()) return false;
  const shorter = Math.min(bits, rule.prefix);
  return addr.match(net, shorter);
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
  const shadowed = [...network.allow, ...network.deny].filter(
    (r) =>
      r.kind === 'address' &&
      (overlaps(r, standIn.v4) || overlaps(r, standIn.v6)),
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
