import ipaddr from 'ipaddr.js';
import { forbiddenAddresses } from './forbidden.js';
import * as dnsPacket from 'dns-packet';
import { describeError } from '../errors.js';
import type { AddressGate } from '../firewall/gate.js';
import type { AddressGrant } from '../firewall/spec.js';
import type { Logger } from '../log/logger.js';
import { canonicalQueryName } from '../policy/names.js';
import type { NetworkPolicy } from '../policy/types.js';
import { addressesIn, chainOf, needsFollowing, ownedBy } from './answers.js';
import {
  allowanceFor,
  chainNameDenied,
  NameRules,
  grantsFor,
  type Allowance,
} from './decide.js';
import type { HostsTable } from './hostfiles.js';
import type { StandIns } from './stand-in.js';
import type { DnsResponse } from './upstream.js';

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

/** What the resolver needs; the upstream and the gate are swapped in tests. */
export interface ResolverOptions {
  policy: Pick<NetworkPolicy, 'allow' | 'deny'>;
  hosts: HostsTable;
  upstream: (name: string, type: dnsPacket.RecordType) => Promise<DnsResponse>;
  gate: AddressGate;
  /** Where the addresses that answer allowed names come from (stand-in.ts). */
  standIns: StandIns;
  ttlFloorSec: number;
  log: Logger;
  /** Addresses never granted or returned behind a name (runner, loopback, link-local). */
  forbidden?: (address: string) => boolean;
}

/** Counts for the run's report. */
export interface ResolverStats {
  answered: number;
  refused: number;
  failed: number;
  /** Refused names and how often each was asked (first 1,000 names). */
  refusedNames: Record<string, number>;
}

const HEADER_BYTES = 12;
/**
 * The longest query answered: a name is at most 255 bytes; with the
 * header, the question and an EDNS record a query stays far below this.
 */
export const MAX_QUERY_BYTES = 512;

/** FORMERR for a query that is not one question, from its header alone. */
function formatError(message: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  message.copy(header, 0, 0, 2);
  // QR, the query's opcode and RD kept, RCODE 1 (FORMERR).
  header.writeUInt16BE(0x8001 | (message.readUInt16BE(2) & 0x7900), 2);
  return header;
}

export interface Resolver {
  /** One DNS message in, the reply out (undefined: not worth a reply). */
  handle(
    message: Buffer,
    transport: 'udp' | 'tcp',
  ): Promise<Buffer | undefined>;
  stats(): ResolverStats;
}

type Query = dnsPacket.DecodedPacket;
type Sections = Pick<dnsPacket.Packet, 'answers' | 'authorities'>;

const HOSTS_TTL = 60;
const MAX_REFUSED_NAMES = 1_000;
const MAX_LOGGED_REFUSALS = 20;
const TYPES = { 4: 'A', 6: 'AAAA' } as const;

const rcodeOf = (packet: dnsPacket.Packet) => (packet.flags ?? 0) & 0xf;

function udpLimit(query: Query): number {
  const opt = query.additionals?.find((a) => a.type === 'OPT') as
    dnsPacket.OptAnswer | undefined;
  return opt ? Math.min(Math.max(opt.udpPayloadSize, 512), 4096) : 512;
}

/**
 * Encodes a reply. Over UDP, one too large for the client goes out
 * truncated, so that the client asks again over TCP.
 */
function reply(
  query: Query,
  rcode: number,
  sections: Sections,
  limit?: number,
): Buffer {
  const opt = query.additionals?.some((a) => a.type === 'OPT');
  const packet: dnsPacket.Packet = {
    type: 'response',
    id: query.id,
    flags:
      (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) |
      dnsPacket.RECURSION_AVAILABLE |
      rcode,
    questions: query.questions,
    ...sections,
    additionals: opt
      ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer]
      : [],
  };
  const wire = dnsPacket.encode(packet);
  if (limit === undefined || wire.length <= limit) return wire;
  return dnsPacket.encode({
    ...packet,
    flags: packet.flags! | dnsPacket.TRUNCATED_RESPONSE,
    answers: [],
    authorities: [],
  });
}

/**
 * The filtering resolver. A name the policy cannot allow is refused and
 * never leaves the host; an allowed one is answered from the runner's hosts
 * file or its upstream resolver, and every address in the answer is opened
 * in the firewall before the answer goes back.
 */
export function createResolver(options: ResolverOptions): Resolver {
  const { hosts, upstream, gate, standIns, ttlFloorSec, log } = options;
  const forbidden = options.forbidden ?? forbiddenAddresses();
  // Loopback behind `localhost` is the sandbox's own: answered, never granted.
  const isLocalName = (name: string) =>
    name === 'localhost' || name.endsWith('.localhost');
  const keepRecord =
    (name: string) => (record: { type: string; data?: unknown }) =>
      !['A', 'AAAA'].includes(record.type) ||
      typeof record.data !== 'string' ||
      !forbidden(record.data) ||
      (isLocalName(name) && ipaddr.process(record.data).range() === 'loopback');
  const rules = new NameRules(options.policy);
  let logged = 0;
  const stats: ResolverStats = {
    answered: 0,
    refused: 0,
    failed: 0,
    // No prototype: a name like `constructor` or `__proto__` is a name.
    refusedNames: Object.create(null) as Record<string, number>,
  };

  const refuse = (query: Query, name: string, why: string): Buffer => {
    stats.refused++;
    const seen = stats.refusedNames[name];
    if (
      seen !== undefined ||
      Object.keys(stats.refusedNames).length < MAX_REFUSED_NAMES
    ) {
      stats.refusedNames[name] = (seen ?? 0) + 1;
    }
    // A flood of made-up names (data hidden in labels) must not flood the
    // job log: the first names are logged, all are counted.
    if (seen === undefined && logged < MAX_LOGGED_REFUSALS) {
      logged++;
      log.warn('DNS query refused', { name, why });
      if (logged === MAX_LOGGED_REFUSALS) {
        log.warn(
          'more names are being refused; they are counted in the report, not logged',
        );
      }
    }
    return reply(query, RCODE.REFUSED, {});
  };

  const fromHosts = async (
    query: Query,
    name: string,
    allowance: Allowance,
  ) => {
    const entry = hosts.get(name)!;
    const addresses = ([4, 6] as const).flatMap((family) =>
      entry[family]
        .filter((address) => !forbidden(address))
        .map((address) => ({ family, address })),
    );
    await gate.grant(
      grantsFor({ allowance, addresses, ttlFloorSec, permanent: true }),
    );
    const type = query.questions![0]!.type;
    const family = type === 'A' ? 4 : type === 'AAAA' ? 6 : undefined;
    const answers = family
      ? entry[family]
          .filter((data) => keepRecord(name)({ type: TYPES[family], data }))
          .map((data) => ({
            type: TYPES[family],
            name: query.questions![0]!.name,
            ttl: HOSTS_TTL,
            data,
          }))
      : [];
    stats.answered++;
    return reply(query, RCODE.NOERROR, {
      answers: answers as dnsPacket.Answer[],
    });
  };

  // Each real address is answered and opened as its stand-in; undefined
  // when the stand-in block has none left.
  const standInGrants = (grants: AddressGrant[]) => {
    const out: Array<AddressGrant & { target: string }> = [];
    for (const grant of grants) {
      const ports = `${grant.ports === 'any' ? 'any' : grant.ports.join(',')}/${grant.denyPorts.join(',')}`;
      const address = standIns.take(
        grant.family,
        grant.address,
        ports,
        grant.timeoutSec ?? ttlFloorSec,
      );
      if (address === undefined) return undefined;
      out.push({ ...grant, address, target: grant.address });
    }
    return out;
  };

  const fromUpstream = async (
    query: Query,
    name: string,
    allowance: Allowance,
    limit?: number,
  ) => {
    const type = query.questions![0]!.type;
    let response = await upstream(name, type);
    const answers = [...(response.answers ?? [])];
    let chain = chainOf(name, answers);
    // Each target is asked once, so a server that answers a CNAME's target
    // with nothing cannot keep the resolver asking.
    const asked = new Set([name]);
    while (
      needsFollowing({ type, chain, answers, rcode: rcodeOf(response) }) &&
      !asked.has(chain.at(-1)!)
    ) {
      asked.add(chain.at(-1)!);
      response = await upstream(chain.at(-1)!, type);
      answers.push(...(response.answers ?? []));
      chain = chainOf(name, answers);
    }
    const denied = chain.find((n) => chainNameDenied(rules, n));
    if (denied)
      return refuse(
        query,
        name,
        `its answer leads to the denied name ${denied}`,
      );
    const found = addressesIn(chain, answers);
    const granted = found.filter((a) => !forbidden(a.address));
    if (found.length > 0 && granted.length === 0 && !isLocalName(name)) {
      return refuse(
        query,
        name,
        'it resolves only to addresses the sandbox may not reach (the runner, loopback, link-local)',
      );
    }
    const grants = standInGrants(
      grantsFor({ allowance, addresses: granted, ttlFloorSec }),
    );
    if (!grants) {
      stats.failed++;
      log.warn('DNS query failed: no stand-in address left', { name });
      return reply(query, RCODE.SERVFAIL, {});
    }
    await gate.grant(grants);
    stats.answered++;
    const standInOf = new Map(grants.map((g) => [g.target, g.address]));
    const records = ownedBy(chain, answers)
      .filter(keepRecord(name))
      .map((record) =>
        record.type === 'A' || record.type === 'AAAA'
          ? // Loopback behind `localhost` is answered as it is.
            {
              ...record,
              data: standInOf.get(String(record.data)) ?? record.data,
            }
          : record,
      );
    return reply(
      query,
      rcodeOf(response),
      { answers: records, authorities: response.authorities ?? [] },
      limit,
    );
  };

  return {
    async handle(message, transport) {
      // Checked before decoding: a long message of compression pointers
      // costs the decoder far more than its size.
      if (message.length < HEADER_BYTES || message.length > MAX_QUERY_BYTES)
        return undefined;
      if (message.readUInt16BE(4) !== 1) return formatError(message);
      let query: Query;
      try {
        query = dnsPacket.decode(message);
      } catch {
        return undefined;
      }
      if (query.type !== 'query') return undefined;
      const question = query.questions?.[0];
      if (!question || query.questions!.length !== 1)
        return reply(query, RCODE.FORMERR, {});
      if (((query.flags ?? 0) >> 11) & 0xf)
        return reply(query, RCODE.NOTIMP, {});
      const name = canonicalQueryName(question.name);
      if (!name)
        return refuse(
          query,
          question.name.slice(0, 253),
          'not a valid host name',
        );
      if ((question.class ?? 'IN') !== 'IN')
        return refuse(query, name, `class ${question.class}`);
      const allowance = allowanceFor(rules, name);
      if (!allowance) return refuse(query, name, 'not allowed by the policy');
      try {
        const limit = transport === 'udp' ? udpLimit(query) : undefined;
        return hosts.has(name)
          ? await fromHosts(query, name, allowance)
          : await fromUpstream(query, name, allowance, limit);
      } catch (error) {
        stats.failed++;
        log.warn('DNS query failed', {
          name,
          type: question.type,
          error: describeError(error),
        });
        return reply(query, RCODE.SERVFAIL, {});
      }
    },
    stats: () => structuredClone(stats),
  };
}
