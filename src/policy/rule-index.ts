// Answers to "does a rule of this list cover, or overlap, that rule?" for
// long lists: the operator's lists against every weaker source's entries,
// a deny list against SRT's allowed literals.
import ipaddr from 'ipaddr.js';
import type { AddressRule, HostRule, NetworkRule } from './types.js';

/** Per key, the first rule (in list order) without a port, and per port. */
class PortSlot {
  anyPort = Infinity;
  withPort = Infinity;
  readonly ports = new Map<number, number>();

  add(index: number, port: number | undefined): void {
    if (port === undefined) {
      this.anyPort = Math.min(this.anyPort, index);
      return;
    }
    this.withPort = Math.min(this.withPort, index);
    if (!this.ports.has(port)) this.ports.set(port, index);
  }

  /** First rule here that shares a port with a rule on `port` (undefined: all). */
  firstOverlap(port: number | undefined): number {
    if (port === undefined) return Math.min(this.anyPort, this.withPort);
    return Math.min(this.anyPort, this.ports.get(port) ?? Infinity);
  }

  /** Whether some rule here allows every port a rule on `port` would. */
  covers(port: number | undefined): boolean {
    return (
      this.anyPort !== Infinity || (port !== undefined && this.ports.has(port))
    );
  }
}

class Slots {
  private readonly map = new Map<string, PortSlot>();

  add(key: string, index: number, port: number | undefined): void {
    let slot = this.map.get(key);
    if (!slot) this.map.set(key, (slot = new PortSlot()));
    slot.add(index, port);
  }

  get(key: string): PortSlot | undefined {
    return this.map.get(key);
  }
}

/** `a.b.c` gives `b.c`, then `c`. */
function* ancestors(host: string): Generator<string> {
  for (
    let dot = host.indexOf('.');
    dot !== -1;
    dot = host.indexOf('.', dot + 1)
  )
    yield host.slice(dot + 1);
}

const BITS = { 4: 32n, 6: 128n } as const;

function addressValue(rule: AddressRule): bigint {
  const bytes =
    rule.family === 4
      ? rule.address.split('.').map(Number)
      : ipaddr.parse(rule.address).toByteArray();
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function networkKey(family: 4 | 6, value: bigint, prefix: number): string {
  const shift = BITS[family] - BigInt(prefix);
  return `${family}/${prefix}/${(value >> shift) << shift}`;
}

interface Block {
  start: bigint;
  index: number;
  port?: number;
}

/**
 * A list of rules indexed for `covers` and `overlaps`: a question costs a
 * few map reads per label or prefix length, not a pass over the list, so
 * checking one long list against another stays linear. Answers are those
 * of `covers` and `overlaps` (cover.ts), and name the first rule in list
 * order.
 */
export class RuleIndex {
  private readonly exact = new Slots();
  private readonly wild = new Slots();
  /** Every name rule, under each name strictly above its own. */
  private readonly under = new Slots();
  private readonly networks = new Slots();
  private readonly prefixes = { 4: new Set<number>(), 6: new Set<number>() };
  private readonly blocks: { 4: Block[]; 6: Block[] } = { 4: [], 6: [] };

  constructor(readonly rules: readonly NetworkRule[]) {
    rules.forEach((rule, index) => {
      if (rule.kind === 'host') {
        (rule.wildcard ? this.wild : this.exact).add(
          rule.host,
          index,
          rule.port,
        );
        for (const up of ancestors(rule.host))
          this.under.add(up, index, rule.port);
        return;
      }
      const value = addressValue(rule);
      this.networks.add(
        networkKey(rule.family, value, rule.prefix),
        index,
        rule.port,
      );
      this.prefixes[rule.family].add(rule.prefix);
      this.blocks[rule.family].push({ start: value, index, port: rule.port });
    });
    for (const list of Object.values(this.blocks))
      list.sort((a, b) =>
        a.start < b.start ? -1 : a.start > b.start ? 1 : a.index - b.index,
      );
  }

  /** Slots of the rules whose names may cover or overlap `rule`'s (see hostCovers). */
  private nameSlots(
    rule: HostRule,
    below: boolean,
  ): Array<PortSlot | undefined> {
    const slots = [(rule.wildcard ? this.wild : this.exact).get(rule.host)];
    for (const up of ancestors(rule.host)) slots.push(this.wild.get(up));
    if (below && rule.wildcard) slots.push(this.under.get(rule.host));
    return slots;
  }

  /** Slots of the blocks that contain `rule`'s block (`value`: its address). */
  private containing(
    rule: AddressRule,
    value: bigint,
  ): Array<PortSlot | undefined> {
    return [...this.prefixes[rule.family]]
      .filter((prefix) => prefix <= rule.prefix)
      .map((prefix) =>
        this.networks.get(networkKey(rule.family, value, prefix)),
      );
  }

  /** The first rule in list order that overlaps `rule`, if any. */
  firstOverlapping(rule: NetworkRule): NetworkRule | undefined {
    let first = Infinity;
    const value = rule.kind === 'address' ? addressValue(rule) : 0n;
    const slots =
      rule.kind === 'host'
        ? this.nameSlots(rule, true)
        : this.containing(rule, value);
    for (const slot of slots) {
      if (slot) first = Math.min(first, slot.firstOverlap(rule.port));
    }
    if (rule.kind === 'address')
      first = Math.min(first, this.firstInside(rule, value));
    return first === Infinity ? undefined : this.rules[first];
  }

  // Blocks nest or are disjoint: one that starts inside `rule`'s block overlaps it.
  private firstInside(rule: AddressRule, start: bigint): number {
    const list = this.blocks[rule.family];
    const end = start + (1n << (BITS[rule.family] - BigInt(rule.prefix))) - 1n;
    let low = 0;
    let high = list.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (list[mid]!.start < start) low = mid + 1;
      else high = mid;
    }
    let first = Infinity;
    for (let i = low; i < list.length && list[i]!.start <= end; i += 1) {
      const block = list[i]!;
      const ports =
        rule.port === undefined ||
        block.port === undefined ||
        block.port === rule.port;
      if (ports) first = Math.min(first, block.index);
    }
    return first;
  }

  /** Whether one rule of the list covers `rule` (every name and port). */
  covering(rule: NetworkRule): boolean {
    const slots =
      rule.kind === 'host'
        ? this.nameSlots(rule, false)
        : this.containing(rule, addressValue(rule));
    return slots.some((slot) => slot?.covers(rule.port));
  }
}
