import dgram from 'node:dgram';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Logger } from '../log/logger.js';
import { frame, takeFrames } from './framing.js';
import type { Resolver } from './resolver.js';

/** A running resolver: its bound addresses and how to stop it. */
export interface DnsServer {
  /** `address:port` (or `[v6]:port`) per listener, UDP and TCP alike. */
  endpoints: string[];
  close(): Promise<void>;
}

const TCP_IDLE_MS = 10_000;
const MAX_TCP_CONNECTIONS = 64;

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
  socket.on('message', (message, from) => {
    resolver.handle(message, 'udp').then(
      (answer) => answer && socket.send(answer, from.port, from.address),
      (error: unknown) =>
        log.warn('DNS reply failed', { error: String(error) }),
    );
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

// Messages on one connection are answered in order.
function serveConnection(socket: net.Socket, resolver: Resolver): void {
  let buffered: Buffer = Buffer.alloc(0);
  let queue = Promise.resolve();
  socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    const { messages, rest } = takeFrames(Buffer.concat([buffered, chunk]));
    buffered = rest;
    for (const message of messages) {
      queue = queue.then(async () => {
        const answer = await resolver
          .handle(message, 'tcp')
          .catch(() => undefined);
        if (answer && !socket.destroyed) socket.write(frame(answer));
      });
    }
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
