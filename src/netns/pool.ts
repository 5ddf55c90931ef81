import ipaddr from 'ipaddr.js';
import { invalidInput } from '../errors.js';

/** Where run subnets come from: an IPv4 block cut into /30s, an IPv6 /48 cut into /64s. */
export interface PoolConfig {
  v4: string;
  v6: string;
}

/** Default pool: private, and rarely used by Docker, Kubernetes or VPNs. */
export const DEFAULT_POOL: PoolConfig = {
  v4: '10.217.0.0/16',
  v6: 'fd5b:f5b0:8f2a::/48',
};

/** One run's point-to-point link addresses. */
export interface RunSubnet {
  slot: number;
  v4: { subnet: string; host: string; sandbox: string; prefix: 30 };
  v6: { subnet: string; host: string; sandbox: string; prefix: 64 };
}

const V4_SLOT_BITS = 2;
const POOL_FORM = 'an IPv4 CIDR of /16 to /28 and an IPv6 CIDR of /48';

function parsePool(pool: PoolConfig): {
  base4: number;
  slots: number;
  v6: number[];
} {
  const [addr4, bits4] = ipaddr.parseCIDR(pool.v4);
  if (addr4.kind() !== 'ipv4' || bits4 < 16 || bits4 > 28) {
    throw invalidInput('CONFIG_INVALID', 'kernel pool v4', pool.v4, POOL_FORM);
  }
  const [addr6, bits6] = ipaddr.parseCIDR(pool.v6);
  if (addr6.kind() !== 'ipv6' || bits6 !== 48) {
    throw invalidInput('CONFIG_INVALID', 'kernel pool v6', pool.v6, POOL_FORM);
  }
  const octets = (addr4 as ipaddr.IPv4).octets;
  const raw =
    ((octets[0]! << 24) |
      (octets[1]! << 16) |
      (octets[2]! << 8) |
      octets[3]!) >>>
    0;
  const mask = bits4 === 0 ? 0 : (0xffffffff << (32 - bits4)) >>> 0;
  const slots = Math.min(2 ** (32 - bits4 - V4_SLOT_BITS), 0x10000);
  return {
    base4: (raw & mask) >>> 0,
    slots,
    v6: (addr6 as ipaddr.IPv6).parts.slice(0, 3),
  };
}

function v4Text(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}

/** How many runs the pool can hold at once. */
export function poolSize(pool: PoolConfig = DEFAULT_POOL): number {
  return parsePool(pool).slots;
}

/** The addresses of one pool slot (pure). */
export function slotSubnet(
  slot: number,
  pool: PoolConfig = DEFAULT_POOL,
): RunSubnet {
  const { base4, slots, v6 } = parsePool(pool);
  if (!Number.isInteger(slot) || slot < 0 || slot >= slots) {
    throw invalidInput(
      'CONFIG_INVALID',
      'kernel pool slot',
      slot,
      `an integer from 0 to ${slots - 1}`,
    );
  }
  const net4 = base4 + (slot << V4_SLOT_BITS);
  const net6 = new ipaddr.IPv6([...v6, slot, 0, 0, 0, 0]).toString();
  const host6 = new ipaddr.IPv6([...v6, slot, 0, 0, 0, 1]).toString();
  const sandbox6 = new ipaddr.IPv6([...v6, slot, 0, 0, 0, 2]).toString();
  return {
    slot,
    v4: {
      subnet: `${v4Text(net4)}/30`,
      host: v4Text(net4 + 1),
      sandbox: v4Text(net4 + 2),
      prefix: 30,
    },
    v6: { subnet: `${net6}/64`, host: host6, sandbox: sandbox6, prefix: 64 },
  };
}

/** A route or address block already present in the runner's namespace. */
export interface ExistingRoute {
  family: 4 | 6;
  cidr: string;
}

// Broad routes (a VPN's 10.0.0.0/8) lose to the run's more specific link
// route, so only narrower ones can make a slot unreachable.
const NARROWEST_IGNORED = { 4: 16, 6: 32 } as const;

function overlaps(a: string, b: string): boolean {
  const [addrA, bitsA] = ipaddr.parseCIDR(a);
  const [addrB, bitsB] = ipaddr.parseCIDR(b);
  if (addrA.kind() !== addrB.kind()) return false;
  const bits = Math.min(bitsA, bitsB);
  return addrA.match(addrB, bits);
}

/** Whether a slot would collide with a route the runner already has. */
export function slotCollides(
  subnet: RunSubnet,
  routes: readonly ExistingRoute[],
): boolean {
  return routes.some((route) => {
    const [, bits] = ipaddr.parseCIDR(route.cidr);
    if (bits < NARROWEST_IGNORED[route.family]) return false;
    const mine = route.family === 4 ? subnet.v4.subnet : subnet.v6.subnet;
    return overlaps(mine, route.cidr);
  });
}
