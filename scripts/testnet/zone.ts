import type { Answer, Packet, Question } from 'dns-packet';
import { ROTATE_TTL, ZONE_TTL, type ZoneEntry } from './topology.js';

const AUTHORITATIVE = 1 << 10;
const RECURSION_DESIRED = 1 << 8;
const RCODE_NXDOMAIN = 3;
const RCODE_FORMERR = 1;
/** Bounds a CNAME chain, so a looping zone cannot hang the server. */
const MAX_CNAME_HOPS = 8;

/** Answers queries for one zone; rotating names alternate per query. */
export class Zone {
  private readonly rotations = new Map<string, number>();

  constructor(private readonly entries: Readonly<Record<string, ZoneEntry>>) {}

  /** The response to one query packet (header flags carry the rcode). */
  respond(query: Packet): Packet {
    const question = query.questions?.[0];
    const base: Packet = {
      type: 'response',
      id: query.id ?? 0,
      flags: AUTHORITATIVE | ((query.flags ?? 0) & RECURSION_DESIRED),
      questions: query.questions ?? [],
    };
    if (!question) return { ...base, flags: base.flags! | RCODE_FORMERR };

    const answers = this.resolve(question);
    if (answers === undefined) {
      return { ...base, flags: base.flags! | RCODE_NXDOMAIN };
    }
    return { ...base, answers };
  }

  // Follows CNAMEs inside the zone; undefined means the name does not exist.
  private resolve(question: Question): Answer[] | undefined {
    const answers: Answer[] = [];
    let name = canonical(question.name);
    for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
      const entry = this.lookup(name);
      if (!entry) return hop === 0 ? undefined : answers;
      if ('cname' in entry) {
        answers.push({
          type: 'CNAME',
          name,
          ttl: ZONE_TTL,
          data: entry.cname,
        });
        name = canonical(entry.cname);
        continue;
      }
      answers.push(...this.addresses(name, entry, question.type));
      return answers;
    }
    return answers;
  }

  // An exact entry, else the closest `*.parent` wildcard entry.
  private lookup(name: string): ZoneEntry | undefined {
    const exact = this.entries[name];
    if (exact) return exact;
    const labels = name.split('.');
    for (let i = 1; i < labels.length; i++) {
      const wildcard = this.entries[`*.${labels.slice(i).join('.')}`];
      if (wildcard) return wildcard;
    }
    return undefined;
  }

  private addresses(
    name: string,
    entry: Exclude<ZoneEntry, { cname: string }>,
    type: string,
  ): Answer[] {
    if (type !== 'A' && type !== 'AAAA') return [];
    if ('rotate4' in entry) {
      const list = type === 'A' ? entry.rotate4 : entry.rotate6;
      const key = `${name}/${type}`;
      const turn = this.rotations.get(key) ?? 0;
      this.rotations.set(key, turn + 1);
      const data = list[turn % list.length]!;
      return [{ type, name, ttl: ROTATE_TTL, data }];
    }
    const list = type === 'A' ? entry.a : entry.aaaa;
    return list.map((data) => ({ type, name, ttl: ZONE_TTL, data }));
  }
}

/** Lower case, one trailing dot removed: how the zone keys are written. */
export function canonical(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** A rogue server's answer: every name exists and points at `address`. */
export function rogueResponse(query: Packet, address: string): Packet {
  const question = query.questions?.[0];
  const answers: Answer[] =
    question?.type === 'A'
      ? [{ type: 'A', name: question.name, ttl: ZONE_TTL, data: address }]
      : [];
  return {
    type: 'response',
    id: query.id ?? 0,
    flags: AUTHORITATIVE | RECURSION_DESIRED,
    questions: query.questions ?? [],
    answers,
  };
}
