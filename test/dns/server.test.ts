import test from 'ava';
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { StandIns } from '../../src/dns/stand-in.js';
import { createResolver } from '../../src/dns/resolver.js';
import { startDnsServer } from '../../src/dns/server.js';
import { queryUpstream } from '../../src/dns/upstream.js';
import { memoryLogger } from '../../src/log/logger.js';
import { query, recordingGate, rules } from './helpers.js';

/** A fake upstream on loopback that answers every A query with 198.18.0.10, and logs names. */
async function fakeUpstream(): Promise<{
  port: number;
  names: string[];
  close(): void;
}> {
  const names: string[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, from) => {
    const q = dnsPacket.decode(msg);
    names.push(q.questions![0]!.name);
    const reply = dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: [
        {
          type: 'A',
          name: q.questions![0]!.name,
          ttl: 30,
          data: '198.18.0.10',
        },
      ],
    });
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, names, close: () => socket.close() };
}

test('UDP and TCP clients get answers; refused names never reach upstream', async (t) => {
  const upstream = await fakeUpstream();
  const gate = recordingGate();
  const resolver = createResolver({
    policy: rules(['*.gitlab.test']),
    hosts: new Map(),
    upstream: (name, type) =>
      queryUpstream(
        [{ address: '127.0.0.1', port: upstream.port }],
        name,
        type,
        1_000,
      ),
    gate,
    standIns: new StandIns(),
    ttlFloorSec: 60,
    log: memoryLogger(),
  });
  const server = await startDnsServer({
    addresses: ['127.0.0.1'],
    port: 0,
    resolver,
    log: memoryLogger(),
  });
  try {
    const port = Number(server.endpoints[0]!.split(':')[1]);
    const client = dgram.createSocket('udp4');
    const udpReply = new Promise<dnsPacket.DecodedPacket>((resolve) =>
      client.once('message', (m) => resolve(dnsPacket.decode(m))),
    );
    client.send(query('www.gitlab.test'), port, '127.0.0.1');
    const answer = await udpReply;
    client.close();
    t.is((answer.answers![0] as { data: string }).data, '10.218.0.1');

    const tcpReply = await new Promise<dnsPacket.DecodedPacket>(
      (resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () =>
          socket.write(
            dnsPacket.streamEncode(
              dnsPacket.decode(query('exfil.attacker.test')),
            ),
          ),
        );
        socket.once('data', (data) => {
          resolve(dnsPacket.streamDecode(data) as dnsPacket.DecodedPacket);
          socket.destroy();
        });
        socket.once('error', reject);
      },
    );
    t.is((tcpReply.flags ?? 0) & 0xf, 5);
    t.deepEqual(upstream.names, ['www.gitlab.test']);
    t.deepEqual(
      gate.grants.map((g) => g.target),
      ['198.18.0.10'],
    );
  } finally {
    await server.close();
    upstream.close();
  }
});

test('an upstream that does not answer fails after its timeout', async (t) => {
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  try {
    await t.throwsAsync(
      queryUpstream(
        [{ address: '127.0.0.1', port: silent.address().port }],
        'gitlab.test',
        'A',
        200,
      ),
      {
        message: /no upstream DNS server answered gitlab.test A/,
      },
    );
  } finally {
    silent.close();
  }
});
