import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import ipaddr from 'ipaddr.js';
import { SandboxError } from '../errors.js';
import { frame, takeFrames } from './framing.js';

/** One upstream DNS server (the runner's, from its resolv.conf). */
export interface UpstreamServer {
  address: string;
  port: number;
}

export type DnsResponse = dnsPacket.DecodedPacket;

const EDNS_SIZE = 1232;

function buildQuery(
  name: string,
  type: dnsPacket.RecordType,
): { id: number; wire: Buffer } {
  const id = randomInt(0x10000);
  const wire = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: [
      { type: 'OPT', name: '.', udpPayloadSize: EDNS_SIZE } as dnsPacket.Answer,
    ],
  });
  return { id, wire };
}

function matches(
  response: DnsResponse,
  id: number,
  name: string,
  type: string,
): boolean {
  const q = response.questions?.[0];
  return (
    response.type === 'response' &&
    response.id === id &&
    q !== undefined &&
    q.type === type &&
    q.name.toLowerCase() === name.toLowerCase()
  );
}

/** One question to one server. */
interface Exchange {
  server: UpstreamServer;
  query: { id: number; wire: Buffer };
  name: string;
  type: string;
  timeoutMs: number;
}

function sameAddress(a: string, b: string): boolean {
  return (
    ipaddr.process(a).toNormalizedString() ===
    ipaddr.process(b).toNormalizedString()
  );
}

function overUdp({
  server,
  query,
  name,
  type,
  timeoutMs,
}: Exchange): Promise<DnsResponse> {
  const family =
    ipaddr.parse(server.address).kind() === 'ipv6' ? 'udp6' : 'udp4';
  const socket = dgram.createSocket(family);
  return new Promise<DnsResponse>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        finish(
          new Error(`no answer from ${server.address} within ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    const finish = (error: Error | undefined, response?: DnsResponse) => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(response!);
    };
    socket.on('error', (error) => finish(error));
    socket.on('message', (message, from) => {
      // Only the server asked may answer, with our id and question.
      if (
        from.port !== server.port ||
        !sameAddress(from.address, server.address)
      )
        return;
      let response: DnsResponse;
      try {
        response = dnsPacket.decode(message);
      } catch {
        return;
      }
      if (matches(response, query.id, name, type)) finish(undefined, response);
    });
    socket.send(query.wire, server.port, server.address);
  });
}

function overTcp({
  server,
  query,
  name,
  type,
  timeoutMs,
}: Exchange): Promise<DnsResponse> {
  return new Promise<DnsResponse>((resolve, reject) => {
    const socket = net.connect({ host: server.address, port: server.port });
    let data: Buffer = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(
        new Error(
          `no answer from ${server.address} over TCP within ${timeoutMs} ms`,
        ),
      ),
    );
    socket.on('error', reject);
    socket.on('connect', () => socket.write(frame(query.wire)));
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const [message] = takeFrames(data).messages;
      if (!message) return;
      socket.destroy();
      try {
        const response = dnsPacket.decode(message);
        if (matches(response, query.id, name, type)) resolve(response);
        else reject(new Error(`mismatched answer from ${server.address}`));
      } catch (error) {
        reject(error as Error);
      }
    });
    socket.on('close', () =>
      reject(
        new Error(
          `${server.address} closed the TCP connection without an answer`,
        ),
      ),
    );
  });
}

/**
 * Asks the runner's resolvers, in order, as the stub resolver would: UDP
 * first, TCP when the answer is truncated. A fresh random id and source
 * port per query make forged answers hard to slip in.
 */
export async function queryUpstream(
  servers: readonly UpstreamServer[],
  name: string,
  type: dnsPacket.RecordType,
  timeoutMs = 2_000,
): Promise<DnsResponse> {
  const failures: string[] = [];
  for (const server of servers) {
    try {
      const exchange = { server, name, type, timeoutMs };
      const response = await overUdp({
        ...exchange,
        query: buildQuery(name, type),
      });
      if (!response.flag_tc) return response;
      return await overTcp({ ...exchange, query: buildQuery(name, type) });
    } catch (error) {
      failures.push(`${server.address}: ${(error as Error).message}`);
    }
  }
  throw new SandboxError(
    'APPLY_FAILED',
    `no upstream DNS server answered ${name} ${type}: ${failures.join('; ') || 'none configured'}`,
  );
}
