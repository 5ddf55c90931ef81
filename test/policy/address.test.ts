import test from 'ava';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { parseAddress } from '../../src/policy/entries.js';

// Fixed seed and bounded runs: the same cases on every machine, in seconds.
const RUNS = { seed: 20261203, numRuns: 2000 };

/** The canonical IPv4 network under a prefix, computed the slow, obvious way. */
function reference(bytes: number[], prefix: number): string {
  const value = bytes.reduce((acc, b) => acc * 256 + b, 0);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(value / size) * size;
  return ipaddr
    .fromByteArray([24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256))
    .toString();
}

const bytes = fc.array(fc.integer({ min: 0, max: 255 }), {
  minLength: 4,
  maxLength: 4,
});

test('dotted quads, with and without a prefix, give the masked network', (t) => {
  fc.assert(
    fc.property(bytes, fc.option(fc.integer({ min: 0, max: 32 })), (b, p) => {
      const text = `${b.join('.')}${p === null ? '' : `/${p}`}`;
      const prefix = p ?? 32;
      t.deepEqual(parseAddress(text), {
        family: 4,
        address: reference(b, prefix),
        prefix,
      });
    }),
    RUNS,
  );
});

test('every spelling ipaddr.js reads as IPv4 gives the same rule as the dotted quad', (t) => {
  const spellings = (b: number[]) => {
    const value = b.reduce((acc, x) => acc * 256 + x, 0);
    return [
      String(value),
      `0x${value.toString(16)}`,
      `${b[0]}.${(b[1]! << 16) + (b[2]! << 8) + b[3]!}`,
      `${b[0]}.${b[1]}.${(b[2]! << 8) + b[3]!}`,
      `0${b[0]!.toString(8)}.${b[1]}.${b[2]}.${b[3]}`,
      `::ffff:${b.join('.')}`,
    ];
  };
  fc.assert(
    fc.property(bytes, fc.integer({ min: 0, max: 32 }), (b, prefix) => {
      const expected = parseAddress(`${b.join('.')}/${prefix}`);
      for (const text of spellings(b)) {
        const mapped = text.startsWith('::ffff:');
        const written = `${text}/${mapped ? prefix + 96 : prefix}`;
        t.deepEqual(parseAddress(written), expected, written);
      }
    }),
    RUNS,
  );
});

test('IPv6 blocks give the network address in canonical text', (t) => {
  const groups = fc.array(fc.integer({ min: 0, max: 0xffff }), {
    minLength: 8,
    maxLength: 8,
  });
  fc.assert(
    fc.property(groups, fc.integer({ min: 0, max: 128 }), (g, prefix) => {
      const ip = new ipaddr.IPv6(g);
      if (ip.isIPv4MappedAddress()) return;
      const text = `${g.map((x) => x.toString(16)).join(':')}/${prefix}`;
      const network = ipaddr.IPv6.networkAddressFromCIDR(text).toString();
      t.deepEqual(parseAddress(text), { family: 6, address: network, prefix });
    }),
    RUNS,
  );
});

const notAddresses = [
  '1.2.3.4/33',
  '1.2.3.4/',
  '1.2.3.4/+8',
  '1.2.3.4/08a',
  '1.2.3.4/0008',
  '1.2.3.4/8/1',
  '256.1.1.1',
  '1.2.3.4.5',
  '::ffff:1.2.3.4/95',
  '::ffff:1.2.3.4/129',
  '2001:db8::/129',
  'example.com',
  '',
];

for (const text of notAddresses) {
  test(`${JSON.stringify(text)} is not an address rule`, (t) => {
    t.is(parseAddress(text), undefined);
  });
}

test('a prefix may be written with leading zeros, as before', (t) => {
  t.deepEqual(parseAddress('10.1.2.3/008'), {
    family: 4,
    address: '10.0.0.0',
    prefix: 8,
  });
});
