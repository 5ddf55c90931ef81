import type * as dnsPacket from 'dns-packet';

/** Longest CNAME chain followed, as stub resolvers do. */
export const MAX_CHAIN = 8;

const canon = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** The asked name and the CNAME targets it leads to, in order (loops cut). */
export function chainOf(
  name: string,
  answers: readonly dnsPacket.Answer[],
): string[] {
  const chain = [canon(name)];
  for (let i = 0; i < MAX_CHAIN; i++) {
    const current = chain.at(-1)!;
    const alias = answers.find(
      (a) => a.type === 'CNAME' && canon(a.name) === current,
    );
    if (!alias) break;
    const target = canon(String((alias as { data?: unknown }).data));
    if (chain.includes(target)) break;
    chain.push(target);
  }
  return chain;
}

/**
 * Whether an address question ended at a CNAME the upstream did not
 * resolve, so the resolver must ask for the target itself.
 */
export function needsFollowing(options: {
  type: string;
  chain: readonly string[];
  answers: readonly dnsPacket.Answer[];
  rcode: number;
}): boolean {
  const { type, chain, answers, rcode } = options;
  if ((type !== 'A' && type !== 'AAAA') || rcode !== 0) return false;
  if (chain.length < 2 || chain.length > MAX_CHAIN) return false;
  const last = chain.at(-1)!;
  return !answers.some(
    (a) => canon(a.name) === last && (a.type === type || a.type === 'CNAME'),
  );
}

/** The records of the chain's names: what the client gets back. */
export function ownedBy(
  chain: readonly string[],
  answers: readonly dnsPacket.Answer[],
): dnsPacket.Answer[] {
  return answers.filter((a) => chain.includes(canon(a.name)));
}

/** Every A and AAAA address of the chain's names, with its TTL. */
export function addressesIn(
  chain: readonly string[],
  answers: readonly dnsPacket.Answer[],
): Array<{ family: 4 | 6; address: string; ttl?: number }> {
  return ownedBy(chain, answers).flatMap((a) => {
    if (a.type !== 'A' && a.type !== 'AAAA') return [];
    return [
      { family: a.type === 'A' ? 4 : 6, address: String(a.data), ttl: a.ttl },
    ];
  });
}
