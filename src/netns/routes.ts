import { readFile } from 'node:fs/promises';
import type { ExistingRoute } from './pool.js';

// /proc/net/route stores addresses as little-endian hex words.
function hexToV4(hex: string): string {
  const value = Number.parseInt(hex, 16);
  return [0, 8, 16, 24].map((shift) => (value >>> shift) & 0xff).join('.');
}

function maskBits(hex: string): number {
  let value = Number.parseInt(hex, 16) >>> 0;
  let bits = 0;
  while (value) {
    bits += value & 1;
    value >>>= 1;
  }
  return bits;
}

/** Parses /proc/net/route (IPv4 main table) into CIDRs. */
export function parseProcRoute(text: string): ExistingRoute[] {
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 8)
    .map((fields) => ({
      family: 4 as const,
      cidr: `${hexToV4(fields[1]!)}/${maskBits(fields[7]!)}`,
    }));
}

/** Parses /proc/net/ipv6_route into CIDRs. */
export function parseProcIpv6Route(text: string): ExistingRoute[] {
  const routes: ExistingRoute[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[0]!.length !== 32) continue;
    const groups = fields[0]!.match(/.{4}/g)!.join(':');
    routes.push({
      family: 6,
      cidr: `${groups}/${Number.parseInt(fields[1]!, 16)}`,
    });
  }
  return routes;
}

/** The routes of the runner's namespace, read without spawning `ip`. */
export async function readRoutes(): Promise<ExistingRoute[]> {
  const [v4, v6] = await Promise.all([
    readFile('/proc/net/route', 'utf8').catch(() => ''),
    readFile('/proc/net/ipv6_route', 'utf8').catch(() => ''),
  ]);
  return [...parseProcRoute(v4), ...parseProcIpv6Route(v6)];
}
