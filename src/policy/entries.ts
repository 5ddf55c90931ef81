import ipaddr from 'ipaddr.js';
import { invalidInput } from '../errors.js';
import { canonicalName, HOST_FORM } from './names.js';
import type { AddressRule, NetworkRule, RuleSource } from './types.js';

const MAX_ENTRY_LENGTH = 300;

/**
 * Shortest allowed CIDR prefix per family: `0.0.0.0/0` is `*` by another
 * name. Deny entries may be as broad as they like.
 */
const MIN_ALLOW_PREFIX = { 4: 8, 6: 16 } as const;

function fail(field: string, raw: string, why: string): never {
  throw invalidInput('POLICY_INVALID', field, raw, HOST_FORM, why);
}

/** Splits `host:port`, `[v6]:port` and bare forms; IPv6 needs brackets for a port. */
function splitPort(
  raw: string,
  field: string,
): { host: string; port?: number } {
  if (!raw.includes(':')) return { host: raw };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw))
    fail(field, raw, 'a URL: give the host name alone, with :PORT if needed');
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(raw);
  if (bracket) {
    const host = bracket[1]!;
    return bracket[2] === undefined
      ? { host }
      : { host, port: parsePort(bracket[2], field, raw) };
  }
  const colons = raw.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = raw.split(':') as [string, string];
    return { host, port: parsePort(port, field, raw) };
  }
  return { host: raw };
}

function parsePort(text: string, field: string, raw: string): number {
  if (!/^[1-9][0-9]{0,4}$/.test(text) || Number(text) > 65535) {
    fail(field, raw, `port ${JSON.stringify(text)} is not 1-65535`);
  }
  return Number(text);
}

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';

/** Dotted-quad IPv4 already in canonical form: no leading zeros, no other base. */
const DOTTED_QUAD = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/** The network of four IPv4 bytes under a prefix, as a dotted quad. */
function ipv4Network(bytes: readonly number[], prefix: number): string {
  return bytes
    .map((byte, i) => {
      const bits = Math.min(8, Math.max(0, prefix - 8 * i));
      return byte & ((0xff << (8 - bits)) & 0xff);
    })
    .join('.');
}

/** A CIDR prefix as written: one to three digits, at most `max`. */
function prefixOf(text: string | undefined, max: number): number | undefined {
  if (text === undefined) return max;
  if (!/^[0-9]{1,3}$/.test(text)) return undefined;
  const prefix = Number(text);
  return prefix <= max ? prefix : undefined;
}

/** Canonical address rule for an IP literal or CIDR, or undefined if not one. */
export function parseAddress(
  text: string,
): { family: 4 | 6; address: string; prefix: number } | undefined {
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  if (prefixText?.includes('/')) return undefined;
  // Most address entries are plain dotted quads: read them without the
  // general parser, which costs several times more per entry. A single
  // address in this form is its own canonical text.
  if (DOTTED_QUAD.test(addr)) {
    const prefix = prefixOf(prefixText, 32);
    if (prefix === undefined) return undefined;
    const address =
      prefix === 32 ? addr : ipv4Network(addr.split('.').map(Number), prefix);
    return { family: 4, address, prefix };
  }
  // IPv4 in any base is digits, hex digits, `x` and dots, and IPv6 has a
  // colon: a name that is neither is settled here, not by the general
  // parser, which throws and catches an error for each such name.
  if (!addr.includes(':') && /[^0-9a-fx.]/i.test(addr)) return undefined;
  if (!ipaddr.isValid(addr)) return undefined;
  const ip = ipaddr.parse(addr);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    // `::ffff:a.b.c.d/N` is the IPv4 block of N - 96 bits.
    const mapped = prefixOf(prefixText, 128);
    if (mapped === undefined || mapped < 96) return undefined;
    const bytes = (ip as ipaddr.IPv6).toIPv4Address().toByteArray();
    return {
      family: 4,
      address: ipv4Network(bytes, mapped - 96),
      prefix: mapped - 96,
    };
  }
  if (ip.kind() === 'ipv4') {
    const prefix = prefixOf(prefixText, 32);
    if (prefix === undefined) return undefined;
    return {
      family: 4,
      address: ipv4Network(ip.toByteArray(), prefix),
      prefix,
    };
  }
  const prefix = prefixOf(prefixText, 128);
  if (prefix === undefined) return undefined;
  const network = ipaddr.IPv6.networkAddressFromCIDR(
    `${ip.toString()}/${prefix}`,
  );
  return { family: 6, address: network.toString(), prefix };
}

/** Turns one allow/deny entry into a canonical rule, or throws naming the field. */
export function parseNetworkEntry(
  raw: unknown,
  field: string,
  source: RuleSource,
  purpose: 'allow' | 'deny' = 'allow',
): NetworkRule {
  if (typeof raw !== 'string') {
    throw invalidInput('POLICY_INVALID', field, raw, HOST_FORM, 'not a string');
  }
  if (raw.length === 0 || raw.length > MAX_ENTRY_LENGTH) {
    fail(field, raw, `length must be 1-${MAX_ENTRY_LENGTH}`);
  }
  if (/[\u0000-\u001f\u007f]/u.test(raw))
    fail(field, raw, 'control characters');
  const { host, port } = splitPort(
    raw.trim() === raw ? raw : fail(field, raw, 'surrounding spaces'),
    field,
  );
  const address = parseAddress(host);
  if (address) {
    const minimum = MIN_ALLOW_PREFIX[address.family];
    if (purpose === 'allow' && address.prefix < minimum) {
      fail(
        field,
        raw,
        `an allowed address block shorter than /${minimum} is too broad`,
      );
    }
    const rule: AddressRule = { kind: 'address', ...address, raw, source };
    if (port !== undefined) rule.port = port;
    return rule;
  }
  if (host.includes('/') || host.includes(':')) {
    fail(field, raw, 'not a valid IP address or CIDR block');
  }
  const wildcard = host.startsWith('*.');
  const name = wildcard ? host.slice(2) : host;
  if (name.includes('*')) {
    fail(
      field,
      raw,
      'a wildcard is allowed only as the whole first label, as in `*.example.com`',
    );
  }
  const canonical = canonicalName(name, field);
  if (wildcard && !canonical.includes('.')) {
    fail(field, raw, 'a wildcard over a top-level domain is too broad');
  }
  const rule = {
    kind: 'host' as const,
    host: canonical,
    wildcard,
    raw,
    source,
  };
  return port === undefined ? rule : { ...rule, port };
}
