import * as dnsPacket from 'dns-packet';
import type { AddressGate } from '../../src/firewall/gate.js';
import type { AddressGrant } from '../../src/firewall/spec.js';
import { parseNetworkEntry } from '../../src/policy/entries.js';

const source = { kind: 'config' as const, origin: 'test' };

/** Allow and deny rules from entries, as the policy holds them. */
export function rules(allow: string[], deny: string[] = []) {
  return {
    allow: allow.map((e) => parseNetworkEntry(e, 'test', source, 'allow')),
    deny: deny.map((e) => parseNetworkEntry(e, 'test', source, 'deny')),
  };
}

/** A gate that records grants, with the time each was opened. */
export function recordingGate(): AddressGate & {
  grants: AddressGrant[];
  events: string[];
} {
  const grants: AddressGrant[] = [];
  const events: string[] = [];
  return {
    grants,
    events,
    async grant(list) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      grants.push(...list);
      events.push(`granted ${list.map((g) => g.address).join(',')}`);
    },
    async close() {},
  };
}

/** A DNS query as a client sends it. */
export function query(
  name: string,
  type: dnsPacket.RecordType = 'A',
  extra: Partial<dnsPacket.Packet> = {},
): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    ...extra,
  });
}

/** An upstream response with the given answers. */
export function response(
  name: string,
  type: dnsPacket.RecordType,
  answers: dnsPacket.Answer[],
  rcode = 0,
): dnsPacket.DecodedPacket {
  return dnsPacket.decode(
    dnsPacket.encode({
      type: 'response',
      id: 1,
      flags: dnsPacket.RECURSION_AVAILABLE | rcode,
      questions: [{ type, name, class: 'IN' }],
      answers,
    }),
  );
}
