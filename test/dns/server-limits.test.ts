// The resolver serves the sandboxed command, which sets the pace: queries
// in progress are bounded, so a flood cannot grow the root controller's
// memory. Loopback only; every loop is bounded.
import test from 'ava';
import dgram from 'node:dgram';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { frame } from '../../src/dns/framing.js';
import type { Resolver } from '../../src/dns/resolver.js';
import {
  MAX_PENDING_TCP,
  MAX_PENDING_UDP,
  startDnsServer,
} from '../../src/dns/server.js';
import { memoryLogger } from '../../src/log/logger.js';

/** A resolver that counts queries; `answer` decides when each is answered. */
function countingResolver(
  answer: () => Promise<Buffer | undefined>,
): Resolver & {
  calls: number;
} {
  const resolver = {
    calls: 0,
    handle: () => {
      resolver.calls += 1;
      return answer();
    },
    stats: () => ({ answered: 0, refused: 0, failed: 0, refusedNames: {} }),
  };
  return resolver;
}

/** Waits until `value()` has not changed for a while (at most ~5 s). */
async function settled(value: () => number): Promise<number> {
  let last = -1;
  let still = 0;
  for (let i = 0; i < 100 && still < 4; i += 1) {
    await sleep(50);
    still = value() === last ? still + 1 : 0;
    last = value();
  }
  return last;
}

test('UDP: queries past the limit in progress are dropped, later ones served again', async (t) => {
  const held: Array<() => void> = [];
  const resolver = countingResolver(
    () => new Promise((done) => held.push(() => done(undefined))),
  );
  const server = await startDnsServer({
    addresses: ['127.0.0.1'],
    port: 0,
    resolver,
    log: memoryLogger(),
  });
  const client = dgram.createSocket('udp4');
  try {
    const port = Number(server.endpoints[0]!.split(':')[1]);
    const send = () =>
      new Promise<void>((done) =>
        client.send(Buffer.from('query'), port, '127.0.0.1', () => done()),
      );
    // One at a time, read before the next: no datagram is lost to a full
    // socket buffer, so only the limit can leave queries unanswered.
    for (let i = 0; i < MAX_PENDING_UDP + 100; i += 1) {
      await send();
      await new Promise((done) => setImmediate(done));
    }
    t.is(await settled(() => resolver.calls), MAX_PENDING_UDP);
    held.splice(0).forEach((release) => release());
    await sleep(10);
    await send();
    t.is(await settled(() => resolver.calls), MAX_PENDING_UDP + 1);
  } finally {
    held.splice(0).forEach((release) => release());
    client.close();
    await server.close();
  }
});

test('TCP: a client that does not read its answers stops being read', async (t) => {
  // Large answers fill the socket buffers soon; queries are tiny.
  const answer = Buffer.alloc(16_000, 1);
  const resolver = countingResolver(async () => answer);
  const server = await startDnsServer({
    addresses: ['127.0.0.1'],
    port: 0,
    resolver,
    log: memoryLogger(),
  });
  const total = 5_000;
  const socket = net.connect(
    Number(server.endpoints[0]!.split(':')[1]),
    '127.0.0.1',
  );
  try {
    await new Promise<void>((done) => socket.once('connect', () => done()));
    socket.pause();
    const queries = Buffer.concat(
      Array.from({ length: total }, () => frame(Buffer.from('query'))),
    );
    socket.write(queries);
    const read = await settled(() => resolver.calls);
    t.true(
      read < total / 2,
      `${read} of ${total} queries were taken while no answer was read`,
    );
    t.true(read >= MAX_PENDING_TCP, `${read} taken`);
    // Reading again lets every query through, in order.
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.resume();
    const expected = total * (answer.length + 2);
    for (let i = 0; i < 200 && bytes < expected; i += 1) await sleep(50);
    t.is(bytes, expected);
    t.is(resolver.calls, total);
  } finally {
    socket.destroy();
    await server.close();
  }
});
