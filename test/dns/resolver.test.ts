import test from 'ava';
import * as dnsPacket from 'dns-packet';
import { parseHosts } from '../../src/dns/hostfiles.js';
import { StandIns } from '../../src/dns/stand-in.js';
import {
  createResolver,
  MAX_QUERY_BYTES,
  RCODE,
} from '../../src/dns/resolver.js';
import type { DnsResponse } from '../../src/dns/upstream.js';
import { memoryLogger } from '../../src/log/logger.js';
import { query, recordingGate, response, rules } from './helpers.js';

type Upstream = (
  name: string,
  type: dnsPacket.RecordType,
) => Promise<DnsResponse>;

function setup(upstream: Upstream, hosts = '') {
  const asked: string[] = [];
  const gate = recordingGate();
  const log = memoryLogger();
  const resolver = createResolver({
    policy: rules(
      [
        'gitlab.test',
        '*.gitlab.test',
        'host.docker.internal',
        'registry.test:443',
      ],
      ['secret.gitlab.test', 'bad.cdn.test'],
    ),
    hosts: parseHosts(hosts),
    upstream: async (name, type) => {
      asked.push(`${name} ${type}`);
      gate.events.push(`asked ${name}`);
      return upstream(name, type);
    },
    gate,
    standIns: new StandIns(),
    ttlFloorSec: 60,
    log,
  });
  const ask = async (wire: Buffer, transport: 'udp' | 'tcp' = 'udp') => {
    const reply = await resolver.handle(wire, transport);
    return dnsPacket.decode(reply!);
  };
  return { resolver, asked, gate, log, ask };
}

const rcode = (packet: dnsPacket.DecodedPacket) => (packet.flags ?? 0) & 0xf;
const a = (name: string, data: string, ttl = 30): dnsPacket.Answer => ({
  type: 'A',
  name,
  ttl,
  data,
});

test('a refused name never reaches upstream and is counted', async (t) => {
  const { asked, ask, resolver, log } = setup(
    async () => t.fail('asked upstream') as never,
  );
  for (const name of [
    'exfil-c2VjcmV0.attacker.test',
    'secret.gitlab.test',
    'gitlab.test.attacker.test',
    '1.2.3.4',
  ]) {
    const reply = await ask(query(name));
    t.is(rcode(reply), RCODE.REFUSED, name);
    t.is(reply.id, 4242);
  }
  await ask(query('exfil-c2VjcmV0.attacker.test', 'TXT'));
  t.deepEqual(asked, []);
  const stats = resolver.stats();
  t.is(stats.refused, 5);
  t.is(stats.refusedNames['exfil-c2vjcmv0.attacker.test'], 2);
  t.is(
    log.lines.filter((l) => l.includes('DNS query refused')).length,
    4,
    'logged once per name',
  );
});

test('an allowed name is opened in the firewall before the answer goes back', async (t) => {
  const { gate, ask } = setup(async (name, type) =>
    response(name, type, [a(name, '198.18.0.10', 5)]),
  );
  const reply = await ask(query('api.gitlab.test'));
  gate.events.push('answered');
  t.is(rcode(reply), RCODE.NOERROR);
  // The answer is a stand-in, opened and translated to the real address.
  t.deepEqual(
    reply.answers!.map((x) => (x as { data: string }).data),
    ['10.218.0.1'],
  );
  t.deepEqual(gate.events, [
    'asked api.gitlab.test',
    'granted 10.218.0.1',
    'answered',
  ]);
  t.deepEqual(gate.grants, [
    {
      family: 4,
      address: '10.218.0.1',
      target: '198.18.0.10',
      ports: 'any',
      denyPorts: [],
      timeoutSec: 60,
    },
  ]);
});

test('a name allowed on one port opens its addresses on that port only', async (t) => {
  const { gate, ask } = setup(async (name, type) =>
    response(name, type, [
      { type: 'AAAA', name, ttl: 600, data: '2001:db8::5' },
    ]),
  );
  await ask(query('registry.test', 'AAAA'));
  t.deepEqual(gate.grants, [
    {
      family: 6,
      address: 'fd5b:f5b0:8f2b::1',
      target: '2001:db8::5',
      ports: [443],
      denyPorts: [],
      timeoutSec: 600,
    },
  ]);
});

test('CNAMEs are followed, every address of the chain is opened', async (t) => {
  const { gate, ask, asked } = setup(async (name, type) =>
    name === 'www.gitlab.test'
      ? response(name, type, [
          { type: 'CNAME', name, ttl: 60, data: 'edge.cdn.test' },
        ])
      : response(name, type, [
          a(name, '198.18.0.20'),
          a(name, '198.18.0.21'),
          a('unrelated.test', '198.18.0.99'),
        ]),
  );
  const reply = await ask(query('www.gitlab.test'));
  t.deepEqual(asked, ['www.gitlab.test A', 'edge.cdn.test A']);
  t.deepEqual(
    gate.grants.map((g) => g.target),
    ['198.18.0.20', '198.18.0.21'],
  );
  t.deepEqual(
    reply.answers!.map((x) => x.type),
    ['CNAME', 'A', 'A'],
    'records of other names are dropped',
  );
});

test('an alias that leads to a denied name is refused', async (t) => {
  const { gate, ask } = setup(async (name, type) =>
    response(name, type, [
      { type: 'CNAME', name, ttl: 60, data: 'bad.cdn.test' },
      a('bad.cdn.test', '198.18.0.66'),
    ]),
  );
  const reply = await ask(query('cdn.gitlab.test'));
  t.is(rcode(reply), RCODE.REFUSED);
  t.deepEqual(gate.grants, []);
});

test('names in the runner hosts file are answered from it, not upstream', async (t) => {
  const { gate, ask, asked } = setup(
    async () => t.fail('asked upstream') as never,
    '172.17.0.1 host.docker.internal\n',
  );
  const reply = await ask(query('host.docker.internal'));
  t.deepEqual(
    reply.answers!.map((x) => (x as { data: string }).data),
    ['172.17.0.1'],
  );
  const none = await ask(query('host.docker.internal', 'AAAA'));
  t.is(rcode(none), RCODE.NOERROR);
  t.deepEqual(none.answers, []);
  t.deepEqual(asked, []);
  t.is(gate.grants[0]!.timeoutSec, undefined);
});

test('NXDOMAIN passes through; upstream failure is SERVFAIL', async (t) => {
  const nx = setup(async (name, type) => response(name, type, [], 3));
  t.is(rcode(await nx.ask(query('nope.gitlab.test'))), 3);
  const down = setup(async () => {
    throw new Error('timeout');
  });
  t.is(rcode(await down.ask(query('gitlab.test'))), RCODE.SERVFAIL);
  t.is(down.resolver.stats().failed, 1);
});

test('a reply too large for UDP is truncated, and complete over TCP', async (t) => {
  const many = Array.from({ length: 60 }, (_, i) =>
    a('big.gitlab.test', `198.18.1.${i}`),
  );
  const { ask } = setup(async (name, type) => response(name, type, many));
  const udp = await ask(query('big.gitlab.test'), 'udp');
  t.true(udp.flag_tc);
  t.deepEqual(udp.answers, []);
  const tcp = await ask(query('big.gitlab.test'), 'tcp');
  t.false(tcp.flag_tc);
  t.is(tcp.answers!.length, 60);
});

test('malformed or unusual queries get no answer, FORMERR or NOTIMP', async (t) => {
  const { resolver } = setup(async () => t.fail('asked upstream') as never);
  t.is(await resolver.handle(Buffer.from('garbage'), 'udp'), undefined);
  const two = dnsPacket.encode({
    type: 'query',
    id: 1,
    questions: [
      { type: 'A', name: 'a.gitlab.test' },
      { type: 'A', name: 'b.gitlab.test' },
    ],
  });
  t.is(
    rcode(dnsPacket.decode((await resolver.handle(two, 'udp'))!)),
    RCODE.FORMERR,
  );
  const update = dnsPacket.encode({
    type: 'query',
    id: 1,
    flags: 5 << 11,
    questions: [{ type: 'A', name: 'gitlab.test' }],
  });
  t.is(
    rcode(dnsPacket.decode((await resolver.handle(update, 'udp'))!)),
    RCODE.NOTIMP,
  );
});

test('a flood of refused names is counted, and only the first are logged', async (t) => {
  const { ask, resolver, log } = setup(
    async () => t.fail('asked upstream') as never,
  );
  for (let i = 0; i < 50; i++) await ask(query(`chunk${i}.attacker.test`));
  t.is(resolver.stats().refused, 50);
  t.is(Object.keys(resolver.stats().refusedNames).length, 50);
  t.is(log.lines.filter((l) => l.includes('DNS query refused')).length, 20);
  t.is(
    log.lines.filter((l) => l.includes('more names are being refused')).length,
    1,
  );
});

test('an allowed name never opens the runner, loopback or link-local addresses', async (t) => {
  const own = await import('../../src/dns/forbidden.js');
  const forbidden = own.forbiddenAddresses(() => ['198.18.0.2']);
  t.true(forbidden('169.254.169.254'));
  t.true(forbidden('127.0.0.1'));
  t.true(forbidden('::ffff:127.0.0.1'));
  t.true(forbidden('198.18.0.2'));
  t.true(forbidden('fe80::1'));
  t.false(forbidden('198.18.0.10'));
  t.false(forbidden('2001:db8::5'));

  const gate = recordingGate();
  const resolver = createResolver({
    policy: rules(['*.gitlab.test', 'localhost'], []),
    hosts: parseHosts('127.0.0.1 localhost\n'),
    upstream: async (name, type) =>
      response(name, type, [
        a(name, name.startsWith('mixed') ? '198.18.0.10' : '169.254.169.254'),
        a(name, '198.18.0.2'),
      ]),
    gate,
    standIns: new StandIns(),
    ttlFloorSec: 60,
    log: memoryLogger(),
    forbidden,
  });
  const ask = async (name: string) =>
    dnsPacket.decode((await resolver.handle(query(name), 'udp'))!);

  t.is(rcode(await ask('meta.gitlab.test')), RCODE.REFUSED);
  const mixed = await ask('mixed.gitlab.test');
  t.deepEqual(
    mixed.answers!.map((x) => (x as { data: string }).data),
    ['10.218.0.1'],
  );
  const local = await ask('localhost');
  t.deepEqual(
    local.answers!.map((x) => (x as { data: string }).data),
    ['127.0.0.1'],
    'localhost still answers with the sandbox’s own loopback',
  );
  t.deepEqual(
    gate.grants.map((g) => g.target),
    ['198.18.0.10'],
  );
});

test('names answered with one address get one stand-in per kind of allowance, the same each time', async (t) => {
  const { gate, ask } = setup(async (name, type) =>
    response(name, type, [a(name, '198.18.0.10')]),
  );
  const data = (p: dnsPacket.DecodedPacket) =>
    p.answers!.map((x) => (x as { data: string }).data);
  t.deepEqual(data(await ask(query('a.gitlab.test'))), ['10.218.0.1']);
  t.deepEqual(data(await ask(query('b.gitlab.test'))), ['10.218.0.1']);
  t.deepEqual(data(await ask(query('a.gitlab.test'))), ['10.218.0.1']);
  // Allowed on 443 only: its stand-in opens only that port.
  t.deepEqual(data(await ask(query('registry.test'))), ['10.218.0.2']);
  t.deepEqual(
    gate.grants.map((g) => `${g.address}>${g.target} ${String(g.ports)}`),
    [
      '10.218.0.1>198.18.0.10 any',
      '10.218.0.1>198.18.0.10 any',
      '10.218.0.1>198.18.0.10 any',
      '10.218.0.2>198.18.0.10 443',
    ],
  );
});

test('names that are object keys in JavaScript are refused, logged and counted like any other', async (t) => {
  const { ask, resolver, log } = setup(
    async () => t.fail('asked upstream') as never,
  );
  for (const name of ['constructor', '__proto__', 'toString', 'constructor'])
    t.is(rcode(await ask(query(name))), RCODE.REFUSED);
  t.deepEqual(Object.entries(resolver.stats().refusedNames), [
    ['constructor', 2],
    ['__proto__', 1],
    ['tostring', 1],
  ]);
  const logged = log.lines.filter((l) => l.includes('DNS query refused'));
  t.is(logged.length, 3);
});

test('a query longer than any real one is dropped before it is decoded', async (t) => {
  const { resolver } = setup(async () => t.fail('asked upstream') as never);
  const long = dnsPacket.encode({
    type: 'query',
    id: 1,
    questions: [{ type: 'A', name: 'gitlab.test' }],
    additionals: [
      { type: 'TXT', name: 'x.test', data: ['a'.repeat(255), 'b'.repeat(255)] },
    ],
  });
  t.true(long.length > MAX_QUERY_BYTES);
  t.is(await resolver.handle(long, 'tcp'), undefined);
  t.is(await resolver.handle(Buffer.alloc(11), 'udp'), undefined);
});
