import ipaddr from 'ipaddr.js';
import { Netmask } from 'netmask';
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

/** Canonical address rule for an IP literal or CIDR, or undefined if not one. */
export function parseAddress(
  text: string,
): { family: 4 | 6; address: string; prefix: number } | undefined {
  const [addr, prefixText, extra] = text.split('/');
  if (extra !== undefined || addr === undefined) return undefined;
  if (!ipaddr.isValid(addr)) return undefined;
  let ip = ipaddr.parse(addr);
  let prefix: number;
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    ip = (ip as ipaddr.IPv6).toIPv4Address();
    prefix = prefixText === undefined ? 32 : Number(prefixText) - 96;
  } else {
    const max = ip.kind() === 'ipv4' ? 32 : 128;
    prefix = prefixText === undefined ? max : Number(prefixText);
  }
  const max = ip.kind() === 'ipv4' ? 32 : 128;
  if (prefixText !== undefined && !/^[0-9]{1,3}$/.test(prefixText))
    return undefined;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  if (ip.kind() === 'ipv4') {
    const base = new Netmask(`${ip.toString()}/${prefix}`).base;
    return { family: 4, address: base, prefix };
  }
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
    return port === undefined ? rule : { ...rule, port };
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
