import { domainToASCII } from 'node:url';
import { invalidInput } from '../errors.js';

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
const MAX_NAME = 253;

export const HOST_FORM =
  'a host name (`gitlab.example.com`), `*.` and a name of two or more labels (`*.example.com`), an IP address or CIDR block, each optionally followed by `:PORT` (1-65535)';

/**
 * Canonical form of a host name: lower case, one trailing dot removed,
 * internationalised labels in punycode. Throws on anything that is not a
 * plain DNS name, so every engine compares names the same way.
 */
export function canonicalName(raw: string, field: string): string {
  if (/[\u0000-\u001f\u007f\s]/u.test(raw)) {
    throw invalidInput(
      'POLICY_INVALID',
      field,
      raw,
      HOST_FORM,
      'control characters or spaces',
    );
  }
  let name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (name.length === 0 || name.includes('..') || name.startsWith('.')) {
    throw invalidInput('POLICY_INVALID', field, raw, HOST_FORM, 'empty label');
  }
  const ascii = /^[\x21-\x7e]*$/.test(name)
    ? name.toLowerCase()
    : domainToASCII(name);
  if (!ascii) {
    throw invalidInput(
      'POLICY_INVALID',
      field,
      raw,
      HOST_FORM,
      'not a valid internationalised name',
    );
  }
  name = ascii;
  if (name.length > MAX_NAME) {
    throw invalidInput(
      'POLICY_INVALID',
      field,
      raw,
      HOST_FORM,
      'longer than 253 characters',
    );
  }
  for (const label of name.split('.')) {
    if (!LABEL.test(label)) {
      throw invalidInput(
        'POLICY_INVALID',
        field,
        raw,
        HOST_FORM,
        `bad label ${JSON.stringify(label)}`,
      );
    }
  }
  if (/^[0-9.]+$/.test(name)) {
    throw invalidInput(
      'POLICY_INVALID',
      field,
      raw,
      HOST_FORM,
      'all-numeric name that is not an IPv4 address',
    );
  }
  return name;
}

/** Canonical form of a name a client asks for, or undefined if it is not one. */
export function canonicalQueryName(raw: string): string | undefined {
  try {
    return canonicalName(raw, 'name');
  } catch {
    return undefined;
  }
}
