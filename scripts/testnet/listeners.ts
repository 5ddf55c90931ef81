import dgram from 'node:dgram';
import { appendFileSync } from 'node:fs';
import net from 'node:net';
import dnsPacket, { type Packet } from 'dns-packet';

/** Something a test host saw, appended as one JSON line to its event log. */
export interface HostEvent {
  kind: 'dns' | 'tcp' | 'udp' | 'http';
  host: string;
  /** For dns: the queried name; for http: the Host header and path. */
  name?: string;
  qtype?: string;
  proto?: 'udp' | 'tcp';
  local?: string;
  peer?: string;
  port?: number;
  time: string;
}

/** Appends events to a JSONL file that the test process reads. */
export function eventWriter(file: string, host: string) {
  return (event: Omit<HostEvent, 'host' | 'time'>): void => {
    const full = { ...event, host, time: new Date().toISOString() };
    appendFileSync(file, `${JSON.stringify(full)}\n`);
  };
}

export type EventSink = ReturnType<typeof eventWriter>;
type Handler = (query: Packet) => Packet;

function family(address: string): 'udp4' | 'udp6' {
  return net.isIPv6(address) ? 'udp6' : 'udp4';
}

/** Binds one UDP socket per address (so replies leave from the asked address). */
async function bindUdp(
  addresses: readonly string[],
  port: number,
  onMessage: (
    socket: dgram.Socket,
    msg: Buffer,
    peer: dgram.RemoteInfo,
  ) => void,
): Promise<dgram.Socket[]> {
  return Promise.all(
    addresses.map(
      (address) =>
        new Promise<dgram.Socket>((resolve, reject) => {
          const socket = dgram.createSocket(family(address));
          socket.on('message', (msg, peer) => onMessage(socket, msg, peer));
          socket.once('error', reject);
          socket.bind(port, address, () => resolve(socket));
        }),
    ),
  );
}

/** A TCP listener on every address of this namespace (dual stack). */
async function listenTcp(
  port: number,
  onConnection: (socket: net.Socket) => void,
): Promise<net.Server> {
  const server = net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '::', ipv6Only: false }, resolve);
  });
  return server;
}

/** DNS over UDP and TCP on port 53; every query is logged before it is answered. */
export async function serveDns(options: {
  addresses: readonly string[];
  port: number;
  handler: Handler;
  log: EventSink;
}): Promise<void> {
  const { addresses, port, handler, log } = options;
  const answer = (msg: Buffer, proto: 'udp' | 'tcp', peer: string) => {
    const query = dnsPacket.decode(msg);
    for (const q of query.questions ?? []) {
      log({ kind: 'dns', name: q.name, qtype: q.type, proto, peer });
    }
    return dnsPacket.encode(handler(query));
  };

  await bindUdp(addresses, port, (socket, msg, peer) => {
    try {
      socket.send(answer(msg, 'udp', peer.address), peer.port, peer.address);
    } catch {
      // A malformed datagram gets no answer, as from a real server.
    }
  });

  await listenTcp(port, (socket) => {
    let pending = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (
        pending.length >= 2 &&
        pending.length >= 2 + pending.readUInt16BE(0)
      ) {
        const size = pending.readUInt16BE(0);
        const msg = pending.subarray(2, 2 + size);
        pending = pending.subarray(2 + size);
        try {
          const reply = answer(msg, 'tcp', socket.remoteAddress ?? '');
          const framed = Buffer.alloc(2 + reply.length);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          socket.write(framed);
        } catch {
          socket.destroy();
        }
      }
    });
  });
}

/** UDP echo: whatever arrives goes back, so a probe knows it got through. */
export async function serveUdpEcho(options: {
  addresses: readonly string[];
  port: number;
  log: EventSink;
}): Promise<void> {
  await bindUdp(options.addresses, options.port, (socket, msg, peer) => {
    options.log({ kind: 'udp', port: options.port, peer: peer.address });
    socket.send(msg, peer.port, peer.address);
  });
}

/** A TCP port that logs each connection and greets it (e.g. DNS over TLS, 853). */
export async function serveTcpGreeting(options: {
  port: number;
  greeting: string;
  log: EventSink;
}): Promise<void> {
  await listenTcp(options.port, (socket) => {
    options.log({
      kind: 'tcp',
      port: options.port,
      peer: socket.remoteAddress ?? '',
      local: socket.localAddress ?? '',
    });
    socket.on('error', () => socket.destroy());
    socket.end(options.greeting);
  });
}
