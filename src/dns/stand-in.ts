// Stand-in addresses. The kernel engine filters packets, and a packet
// carries an address, not the name it was looked up under: if an allowed
// name opened its real address, that address would be reachable under any
// name or as a literal. So the resolver answers an allowed name with a
// stand-in address of the run's own, and the firewall translates the
// stand-in to the real address (DNAT) and opens only the stand-in. A
// literal connection to the real address is judged as a literal.
// TODO(#3): the name inside a connection (Host, TLS SNI) is not checked: a
// CDN address an allowed name resolves to serves every site on it through
// that name's stand-in (domain fronting), a way out for data.
import ipaddr from 'ipaddr.js';
import { invalidInput } from '../errors.js';

/** Where stand-ins come from: an IPv4 and an IPv6 block. */
export interface StandInRanges {
  v4: string;
  v6: string;
}

/**
 * Private, beside the default run pool (10.217.0.0/16), and off every
 * run's link, so the sandbox routes them through the host. Runs share
 * the blocks: each run translates only what comes from its own veth.
 */
export const DEFAULT_STAND_IN: StandInRanges = {
  v4: '10.218.0.0/16',
  v6: 'fd5b:f5b0:8f2b::/64',
};

const FORM = 'an IPv4 CIDR of /8 to /30 and an IPv6 CIDR of /48 to /126';

// A stand-in is not handed out again until this long after its last
// grant lapsed: the firewall's timers and the resolver's are not one clock.
const REUSE_SLACK_MS = 5_000;

interface Block {
  base: bigint;
  /** How many stand-ins the block holds (its first address is skipped). */
  size: bigint;
  bits: 32 | 128;
}

function block(cidr: string, family: 4 | 6): Block {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(cidr);
  } catch {
    throw invalidInput('CONFIG_INVALID', `stand-in v${family}`, cidr, FORM);
  }
  const [addr, prefix] = parsed;
  const bits = family === 4 ? 32 : 128;
  const [min, max] = family === 4 ? [8, 30] : [48, 126];
  if (
    addr.kind() !== (family === 4 ? 'ipv4' : 'ipv6') ||
    prefix < min ||
    prefix > max
  )
    throw invalidInput('CONFIG_INVALID', `stand-in v${family}`, cidr, FORM);
  const value = addr
    .toByteArray()
    .reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
  const hostBits = BigInt(bits - prefix);
  const base = (value >> hostBits) << hostBits;
  // The first and (IPv4) last addresses of the block are never handed out.
  return { base, size: (1n << hostBits) - 2n, bits };
}

function text(value: bigint, bits: 32 | 128): string {
  const bytes: number[] = [];
  for (let i = bits / 8 - 1; i >= 0; i--)
    bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** The block's CIDRs, checked: what the firewall matches stand-ins by. */
export function standInBlocks(ranges: StandInRanges): StandInRanges {
  for (const family of [4, 6] as const) block(ranges[`v${family}`], family);
  return ranges;
}

/**
 * Hands out stand-ins, one per real address and kind of allowance (names
 * allowed on the same ports share one), the same one for as long as it is
 * in use, and reuses those whose grants lapsed when a block runs out.
 */
export class StandIns {
  private readonly blocks: Record<4 | 6, Block>;
  private readonly next = { 4: 0n, 6: 0n };
  private readonly byKey = new Map<
    string,
    { address: string; until: number }
  >();

  constructor(
    ranges: StandInRanges = DEFAULT_STAND_IN,
    private readonly now: () => number = Date.now,
  ) {
    this.blocks = { 4: block(ranges.v4, 4), 6: block(ranges.v6, 6) };
  }

  /**
   * The stand-in for `real` under `allowance` (a key of the ports it
   * opens), kept at least `timeoutSec` from now; undefined when the block
   * has none free.
   */
  take(
    family: 4 | 6,
    real: string,
    allowance: string,
    timeoutSec: number,
  ): string | undefined {
    const key = `${family} ${allowance} ${real}`;
    const until = this.now() + timeoutSec * 1000;
    const known = this.byKey.get(key);
    if (known) {
      known.until = Math.max(known.until, until);
      return known.address;
    }
    const address = this.fresh(family) ?? this.lapsed(family);
    if (address === undefined) return undefined;
    this.byKey.set(key, { address, until });
    return address;
  }

  private fresh(family: 4 | 6): string | undefined {
    const b = this.blocks[family];
    if (this.next[family] >= b.size) return undefined;
    this.next[family]++;
    return text(b.base + this.next[family], b.bits);
  }

  private lapsed(family: 4 | 6): string | undefined {
    const now = this.now();
    for (const [key, entry] of this.byKey) {
      if (!key.startsWith(`${family} `)) continue;
      if (entry.until + REUSE_SLACK_MS > now) continue;
      this.byKey.delete(key);
      return entry.address;
    }
    return undefined;
  }
}
