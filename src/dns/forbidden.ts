import os from 'node:os';
import ipaddr from 'ipaddr.js';

/**
 * Address classes no allowed name may open, whatever the policy allows by
 * name: whoever controls an allowed zone must not point the sandbox at the
 * runner itself, at the cloud metadata service or at other local-only
 * addresses. An allow entry that names such an address literally still
 * opens it (the firewall's literal sets), as the policy then says so.
 */
const RANGES = [
  'loopback',
  'linkLocal',
  'unspecified',
  'multicast',
  'broadcast',
] as const;

/** Addresses assigned to this (the runner's) network namespace. */
export function runnerAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i): i is os.NetworkInterfaceInfo => Boolean(i))
    .map((i) => i.address.replace(/%.*$/, ''));
}

/**
 * A predicate: true for an address the resolver must never grant. The
 * runner's addresses are read at each call: the run's own veth address
 * appears only during set-up. `blocks` (CIDRs) are refused whole: the
 * runs' address pool, where every run's runner-side address will be
 * (a name granted one before that run started would lead to the runner),
 * and the stand-in blocks.
 */
export function forbiddenAddresses(
  own: () => string[] = runnerAddresses,
  blocks: readonly string[] = [],
): (address: string) => boolean {
  const parsed = blocks.map((b) => ipaddr.parseCIDR(b));
  return (address) => {
    if (!ipaddr.isValid(address)) return true;
    const ip = ipaddr.process(address);
    const text = ip.toString();
    if (
      parsed.some(
        ([net, bits]) => ip.kind() === net.kind() && ip.match(net, bits),
      )
    )
      return true;
    const mine = own().filter((a) => ipaddr.isValid(a));
    if (mine.some((a) => ipaddr.process(a).toString() === text)) return true;
    return (RANGES as readonly string[]).includes(ip.range());
  };
}
