import ipaddr from 'ipaddr.js';
import type { AddressRule, HostRule, NetworkRule } from './types.js';

/** `name` is `base` or a name below it. */
const atOrBelow = (name: string, base: string) =>
  name === base || name.endsWith(`.${base}`);

const below = (name: string, base: string) => name.endsWith(`.${base}`);

function blockContains(outer: AddressRule, inner: AddressRule): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix)
    return false;
  return ipaddr
    .parse(inner.address)
    .match(ipaddr.parse(outer.address), outer.prefix);
}

function hostCovers(outer: HostRule, inner: HostRule): boolean {
  if (!outer.wildcard) return !inner.wildcard && inner.host === outer.host;
  // `*.x` covers `a.x` and `*.a.x`, and `*.x` itself, never `x`.
  return inner.wildcard
    ? atOrBelow(inner.host, outer.host)
    : below(inner.host, outer.host);
}

function hostsOverlap(a: HostRule, b: HostRule): boolean {
  if (!a.wildcard && !b.wildcard) return a.host === b.host;
  if (a.wildcard && b.wildcard)
    return atOrBelow(a.host, b.host) || atOrBelow(b.host, a.host);
  const [exact, wild] = a.wildcard ? [b, a] : [a, b];
  return below(exact.host, wild.host);
}

/**
 * Whether `outer` allows every destination `inner` would: every name and
 * every port. Names never cover addresses or the other way round, since
 * what a name resolves to is not known when the policy is merged.
 */
export function covers(outer: NetworkRule, inner: NetworkRule): boolean {
  if (outer.port !== undefined && outer.port !== inner.port) return false;
  if (outer.kind === 'host' && inner.kind === 'host')
    return hostCovers(outer, inner);
  if (outer.kind === 'address' && inner.kind === 'address')
    return blockContains(outer, inner);
  return false;
}

/** Whether some destination (name or address, and port) matches both rules. */
export function overlaps(a: NetworkRule, b: NetworkRule): boolean {
  if (a.port !== undefined && b.port !== undefined && a.port !== b.port)
    return false;
  if (a.kind === 'host' && b.kind === 'host') return hostsOverlap(a, b);
  if (a.kind === 'address' && b.kind === 'address') {
    const wider = a.prefix <= b.prefix ? a : b;
    const narrower = wider === a ? b : a;
    return blockContains(wider, narrower);
  }
  return false;
}
