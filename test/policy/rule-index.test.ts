import test from 'ava';
import fc from 'fast-check';
import { covers, overlaps } from '../../src/policy/cover.js';
import { RuleIndex } from '../../src/policy/rule-index.js';
import { parseNetworkEntry } from '../../src/policy/entries.js';
import type { NetworkRule } from '../../src/policy/types.js';

// Fixed seed and bounded runs: the same cases on every machine, in seconds.
const RUNS = { seed: 20261203, numRuns: 300 };

const name = fc
  .array(fc.constantFrom('a', 'b', 'example', 'com', 'test'), {
    minLength: 2,
    maxLength: 4,
  })
  .map((labels) => labels.join('.'));
const address = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(10, 198),
      fc.constantFrom(0, 18, 19),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
      fc.option(fc.constantFrom(8, 16, 23, 24, 30, 31, 32)),
    )
    .map(
      ([a, b, c, d, p]) => `${a}.${b}.${c}.${d}${p === null ? '' : `/${p}`}`,
    ),
  fc
    .tuple(
      fc.constantFrom('2001:db8', '2001:db9'),
      fc.integer({ min: 0, max: 3 }),
      fc.option(fc.constantFrom(16, 32, 48, 64, 127, 128)),
    )
    .map(([net, x, p]) => `${net}::${x}${p === null ? '' : `/${p}`}`),
);
const entry = fc
  .tuple(
    fc.oneof(
      name,
      name.map((n) => `*.${n}`),
      address,
    ),
    fc.option(fc.constantFrom(80, 443)),
  )
  .map(([host, port]) => {
    if (port === null) return host;
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  })
  .filter((raw) => !/^\[[^\]]*\/[^\]]*\]/.test(raw));

const rule = (raw: string, i: number): NetworkRule =>
  parseNetworkEntry(
    raw,
    `list[${i}]`,
    { kind: 'operator', origin: `list[${i}]` },
    'deny',
  );

test('the index names the first overlapping rule, as a pass over the list does', (t) => {
  fc.assert(
    fc.property(
      fc.array(entry, { maxLength: 30 }),
      fc.array(entry, { minLength: 1, maxLength: 10 }),
      (listed, asked) => {
        const rules = listed.map(rule);
        const index = new RuleIndex(rules);
        for (const [i, raw] of asked.entries()) {
          const r = rule(raw, i);
          t.is(
            index.firstOverlapping(r),
            rules.find((d) => overlaps(r, d)),
            raw,
          );
        }
      },
    ),
    RUNS,
  );
});

test('the index finds a covering rule exactly when a pass over the list does', (t) => {
  fc.assert(
    fc.property(
      fc.array(entry, { maxLength: 30 }),
      fc.array(entry, { minLength: 1, maxLength: 10 }),
      (listed, asked) => {
        const rules = listed.map(rule);
        const index = new RuleIndex(rules);
        for (const [i, raw] of asked.entries()) {
          const r = rule(raw, i);
          t.is(
            index.covering(r),
            rules.some((a) => covers(a, r)),
            raw,
          );
        }
      },
    ),
    RUNS,
  );
});

test('an index of many rules answers for each without a pass over the list', (t) => {
  // 20,000 denied addresses against 20,000 allowed names and addresses,
  // as a long operator file meets a long --config file.
  const denied = Array.from({ length: 20_000 }, (_, i) =>
    rule(`198.18.${i >> 8}.${i & 255}`, i),
  );
  const index = new RuleIndex(denied);
  let overlapping = 0;
  for (let i = 0; i < 20_000; i += 1) {
    const asked = rule(
      i % 2 ? `h${i}.example.com` : `198.19.${(i >> 8) & 255}.${i & 255}`,
      i,
    );
    if (index.firstOverlapping(asked)) overlapping += 1;
  }
  t.is(overlapping, 0);
  t.is(index.firstOverlapping(rule('198.18.0.0/16', 0)), denied[0]);
  t.is(index.firstOverlapping(rule('198.18.3.0/24', 0)), denied[3 * 256]);
});
