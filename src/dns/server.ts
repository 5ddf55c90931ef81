import dgram from 'node:dgram';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Logger } from '../log/logger.js';
import { frame, nextFrame } from './framing.js';
import type { Resolver } from './resolver.js';

/** A running resolver: its bound addresses and how to stop it. */
export interface DnsServer {
  /** `address:port` (or `[v6]:port`) per listener, UDP and TCP alike. */
  endpoints: string[];
  close(): Promise<void>;
}

const TCP_IDLE_MS = 10_000;
const MAX_TCP_CONNECTIONS = 64;
/**
 * The command sets the pace of its queries, and every query in progress
 * holds memory in the root controller (and perhaps an upstream lookup):
 * UDP queries past this many in progress are dropped (clients retry), a
 * TCP connection with this many waiting is not read until they are
 * answered, nor while its answers are not read.
 */
export const MAX_PENDING_UDP = 256;
export const MAX_PENDING_TCP = 32;

function udpListener(
  address: string,
  port: number,
  resolver: Resolver,
  log: Logger,
): Promise<dgram.Socket> {
  const family = ipaddr.parse(address).kind() === 'ipv6' ? 'udp6' : 'udp4';
  const socket = dgram.createSocket({
    type: family,
    ipv6Only: family === 'udp6',
  });
  let pending = 0;
  socket.on('message', (message, from) => {
    if (pending >= MAX_PENDING_UDP) return;
    pending += 1;
    resolver
      .handle(message, 'udp')
      .then(
        (answer) => answer && socket.send(answer, from.port, from.address),
        (error: unknown) =>
          log.warn('DNS reply failed', { error: String(error) }),
      )
      .finally(() => (pending -= 1));
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      socket.on('error', (error) =>
        log.warn('DNS UDP socket error', { error: String(error) }),
      );
      resolve(socket);
    });
  });
}

// Messages on one connection are answered in order. At most
// MAX_PENDING_TCP are taken at a time; the rest stay unread in the byte
// stream (one chunk at most: reading pauses), as they do while the client
// does not read its answers.
function serveConnection(socket: net.Socket, resolver: Resolver): void {
  let buffered: Buffer = Buffer.alloc(0);
  let queue = Promise.resolve();
  let pending = 0;
  let unread = false;
  const pump = () => {
    while (pending < MAX_PENDING_TCP && !unread) {
      const next = nextFrame(buffered);
      if (!next) break;
      buffered = next.rest;
      pending += 1;
      queue = queue.then(async () => {
        const answer = await resolver
          .handle(next.message, 'tcp')
          .catch(() => undefined);
        if (answer && !socket.destroyed && !socket.write(frame(answer)))
          unread = true;
        pending -= 1;
        pump();
      });
    }
    const waiting = nextFrame(buffered) !== undefined;
    if (waiting || unread || pending >= MAX_PENDING_TCP) socket.pause();
    else socket.resume();
  };
  socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('drain', () => {
    unread = false;
    pump();
  });
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    pump();
  });
}

interface TcpListener {
  server: net.Server;
  open: Set<net.Socket>;
}

function tcpListener(
  address: string,
  port: number,
  resolver: Resolver,
): Promise<TcpListener> {
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    serveConnection(socket, resolver);
  });
  server.maxConnections = MAX_TCP_CONNECTIONS;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(
      {
        host: address,
        port,
        ipv6Only: ipaddr.parse(address).kind() === 'ipv6',
      },
      () => {
        server.off('error', reject);
        resolve({ server, open });
      },
    );
  });
}

/**
 * Serves the resolver over UDP and TCP on each given address (the host end
 * of the run's veth), in the controller's own process: no helper process
 * to start, and it lives exactly as long as the run.
 */
export async function startDnsServer(options: {
  addresses: string[];
  port: number;
  resolver: Resolver;
  log: Logger;
}): Promise<DnsServer> {
  const { addresses, port, resolver, log } = options;
  const udp: dgram.Socket[] = [];
  const tcp: TcpListener[] = [];
  const close = async () => {
    for (const socket of udp.splice(0)) socket.close();
    await Promise.all(
      tcp.splice(0).map(({ server, open }) => {
        // close() only stops new connections; the open ones go with it.
        const closed = new Promise<void>((done) => server.close(() => done()));
        open.forEach((socket) => socket.destroy());
        return closed;
      }),
    );
  };
  try {
    for (const address of addresses) {
      udp.push(await udpListener(address, port, resolver, log));
      tcp.push(
        await tcpListener(address, udp.at(-1)!.address().port, resolver),
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  const endpoints = udp.map((socket) => {
    const { address, port: bound } = socket.address();
    return address.includes(':')
      ? `[${address}]:${bound}`
      : `${address}:${bound}`;
  });
  return { endpoints, close };
}
