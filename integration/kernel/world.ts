// The test "internet" for the kernel engine's integration tests: run inside
// a network namespace of the test's own, it serves a DNS zone, HTTP on
// every test host address, and plain listeners, and logs every query,
// connection and datagram it sees as JSON lines.
import { appendFileSync } from 'node:fs';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';

/** One name in the test zone; A and AAAA answers rotate per query. */
export interface ZoneEntry {
  A?: string[][];
  AAAA?: string[][];
  CNAME?: string;
  ttl?: number;
}

export interface WorldConfig {
  dnsAddresses: string[];
  zone: Record<string, ZoneEntry>;
  httpAddresses: Array<{ address: string; port: number }>;
  tcpListeners: Array<{ address: string; port: number }>;
  udpListeners: Array<{ address: string; port: number }>;
  log: string;
}

function note(config: WorldConfig, event: Record<string, unknown>): void {
  appendFileSync(config.log, `${JSON.stringify(event)}\n`);
}

function answer(
  config: WorldConfig,
  asked: Map<string, number>,
  query: dnsPacket.DecodedPacket,
): Buffer {
  const question = query.questions![0]!;
  const name = question.name.toLowerCase();
  note(config, { kind: 'dns', name, type: question.type });
  const entry = config.zone[name];
  const answers: dnsPacket.Answer[] = [];
  if (entry?.CNAME) {
    answers.push({
      type: 'CNAME',
      name: question.name,
      ttl: entry.ttl ?? 60,
      data: entry.CNAME,
    });
  } else if (entry && (question.type === 'A' || question.type === 'AAAA')) {
    const rotation = entry[question.type] ?? [];
    const count = asked.get(`${name}/${question.type}`) ?? 0;
    asked.set(`${name}/${question.type}`, count + 1);
    for (const data of rotation.length
      ? rotation[Math.min(count, rotation.length - 1)]!
      : []) {
      answers.push({
        type: question.type,
        name: question.name,
        ttl: entry.ttl ?? 60,
        data,
      });
    }
  }
  return dnsPacket.encode({
    type: 'response',
    id: query.id,
    flags:
      dnsPacket.RECURSION_DESIRED |
      dnsPacket.RECURSION_AVAILABLE |
      (entry ? 0 : 3),
    questions: query.questions,
    answers,
  });
}

// For throughput benchmarks: n zero bytes, written as fast as the client reads.
function sendBytes(res: http.ServerResponse, n: number): void {
  const chunk = Buffer.alloc(1 << 20);
  res.writeHead(200, { 'content-length': String(n) });
  let left = n;
  const pump = () => {
    while (left > 0) {
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= part.length;
      if (!res.write(part)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

function listenAll(config: WorldConfig): Promise<unknown[]> {
  const asked = new Map<string, number>();
  const waits: Array<Promise<unknown>> = [];
  for (const address of config.dnsAddresses) {
    const udp = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    udp.on('message', (msg, from) => {
      try {
        udp.send(
          answer(config, asked, dnsPacket.decode(msg)),
          from.port,
          from.address,
        );
      } catch {
        // not DNS
      }
    });
    waits.push(
      new Promise((resolve) => udp.bind(53, address, () => resolve(undefined))),
    );
    const tcp = net.createServer((socket) => {
      socket.on('data', (data) => {
        try {
          const reply = answer(
            config,
            asked,
            dnsPacket.decode(data.subarray(2)),
          );
          const length = Buffer.alloc(2);
          length.writeUInt16BE(reply.length);
          socket.end(Buffer.concat([length, reply]));
        } catch {
          socket.destroy();
        }
      });
      socket.on('error', () => undefined);
    });
    waits.push(
      new Promise((resolve) =>
        tcp.listen(53, address, () => resolve(undefined)),
      ),
    );
  }
  for (const { address, port } of config.httpAddresses) {
    const server = http.createServer((req, res) => {
      note(config, { kind: 'http', address, port, path: req.url });
      const bulk = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
      if (bulk) sendBytes(res, Number(bulk[1]));
      else res.end(`hello from ${address}:${port}\n`);
    });
    waits.push(
      new Promise((resolve) =>
        server.listen(port, address, () => resolve(undefined)),
      ),
    );
  }
  for (const { address, port } of config.tcpListeners) {
    const server = net.createServer((socket) => {
      note(config, { kind: 'tcp', address, port });
      socket.destroy();
    });
    waits.push(
      new Promise((resolve) =>
        server.listen(port, address, () => resolve(undefined)),
      ),
    );
  }
  for (const { address, port } of config.udpListeners) {
    const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    socket.on('message', () => note(config, { kind: 'udp', address, port }));
    waits.push(
      new Promise((resolve) =>
        socket.bind(port, address, () => resolve(undefined)),
      ),
    );
  }
  return Promise.all(waits);
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorldConfig;
listenAll(config).then(
  () => process.stdout.write('ready\n'),
  (error: unknown) => {
    process.stderr.write(`world: ${String(error)}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => process.exit(0));
