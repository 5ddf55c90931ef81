import test from 'ava';
import { covers, overlaps } from '../../src/policy/cover.js';
import { parseNetworkEntry } from '../../src/policy/entries.js';

const r = (raw: string) =>
  parseNetworkEntry(raw, 'test', { kind: 'flag', origin: 'test' });

const coverCases: [string, string, boolean][] = [
  // [outer, inner, outer covers inner]
  ['example.com', 'example.com', true],
  ['example.com', 'EXAMPLE.com.', true],
  ['example.com', 'api.example.com', false],
  ['example.com', '*.example.com', false],
  ['*.example.com', 'api.example.com', true],
  ['*.example.com', 'a.b.example.com', true],
  ['*.example.com', '*.api.example.com', true],
  ['*.example.com', '*.example.com', true],
  ['*.example.com', 'example.com', false],
  ['*.api.example.com', '*.example.com', false],
  ['*.example.com', 'badexample.com', false],
  ['*.example.com', 'api.example.org', false],
  // ports: no port covers every port, a port covers only itself
  ['example.com', 'example.com:443', true],
  ['example.com:443', 'example.com', false],
  ['example.com:443', 'example.com:443', true],
  ['example.com:443', 'example.com:80', false],
  ['*.example.com', 'api.example.com:8443', true],
  ['*.example.com:443', 'api.example.com', false],
  // addresses
  ['198.18.0.0/15', '198.19.1.2', true],
  ['198.18.0.0/16', '198.19.1.2', false],
  ['198.18.0.0/24', '198.18.0.0/23', false],
  ['198.18.0.0/23', '198.18.1.0/24', true],
  ['2001:db8::/32', '2001:db8:1::1', true],
  ['2001:db8::/32', '198.18.0.1', false],
  ['198.18.0.1', '198.18.0.1:80', true],
  // names and addresses never cover each other
  ['198.18.0.1', 'example.com', false],
  ['example.com', '198.18.0.1', false],
];

for (const [outer, inner, expected] of coverCases) {
  test(`${outer} ${expected ? 'covers' : 'does not cover'} ${inner}`, (t) => {
    t.is(covers(r(outer), r(inner)), expected);
  });
}

const overlapCases: [string, string, boolean][] = [
  ['example.com', 'example.com', true],
  ['example.com', 'api.example.com', false],
  ['*.example.com', 'example.com', false],
  ['*.example.com', 'api.example.com', true],
  ['*.example.com', '*.api.example.com', true],
  ['*.api.example.com', '*.example.com', true],
  ['*.example.com', '*.example.org', false],
  ['*.a.example.com', '*.b.example.com', false],
  ['example.com:443', 'example.com:80', false],
  ['example.com:443', 'example.com', true],
  ['*.example.com:443', 'api.example.com:443', true],
  ['*.example.com:443', 'api.example.com:22', false],
  ['198.18.0.0/24', '198.18.0.7', true],
  ['198.18.0.7', '198.18.0.0/24', true],
  ['198.18.0.0/24', '198.18.1.0/24', false],
  ['198.18.0.0/24', 'example.com', false],
];

for (const [a, b, expected] of overlapCases) {
  test(`${a} ${expected ? 'overlaps' : 'does not overlap'} ${b}`, (t) => {
    t.is(overlaps(r(a), r(b)), expected);
    t.is(overlaps(r(b), r(a)), expected, 'symmetric');
  });
}
