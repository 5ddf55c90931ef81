import test from 'ava';
import fc from 'fast-check';
import { SandboxError } from '../../src/errors.js';
import { parseNetworkEntry } from '../../src/policy/entries.js';
import { parsePolicyFile } from '../../src/policy/load.js';
import { judge } from '../../src/policy/match.js';
import { parsePath } from '../../src/policy/paths.js';
import { formatRule, type NetworkRule } from '../../src/policy/types.js';

// Fixed seed and bounded runs: the same cases on every machine, in seconds.
const RUNS = { seed: 20261203, numRuns: 400 };
const source = { kind: 'config' as const, origin: 'fuzz' };

/** Pieces attackers and typos are made of. */
const piece = fc.constantFrom(
  '*',
  '*.',
  '.',
  '..',
  '-',
  '_',
  ':',
  '::',
  '/',
  '[',
  ']',
  '%',
  '@',
  ' ',
  '\t',
  '\n',
  '\u0000',
  'a',
  'gitlab',
  'test',
  'com',
  'xn--',
  'ｇｉｔｌａｂ',
  'ß',
  'İ',
  '\u200b',
  '\u202e',
  'é',
  '0',
  '127',
  '0x7f',
  '017',
  '255',
  '256',
  '4294967295',
  'ffff',
  '::ffff:',
  '8080',
  '65536',
  '~',
  '/..',
  '/etc',
  'localhost',
);
const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(piece, { maxLength: 10 }).map((p) => p.join('')),
);

function parses(raw: unknown): NetworkRule | SandboxError {
  try {
    return parseNetworkEntry(raw, 'network.allow[0]', source);
  } catch (error) {
    if (error instanceof SandboxError) return error;
    throw error;
  }
}

test('every entry is either refused clearly or accepted in canonical form', (t) => {
  fc.assert(
    fc.property(hostile, (raw) => {
      const result = parses(raw);
      if (result instanceof SandboxError) {
        return (
          result.code === 'POLICY_INVALID' &&
          result.message.startsWith('network.allow[0]: ') &&
          result.message.includes(JSON.stringify(raw)) &&
          result.message.includes('expected')
        );
      }
      const again = parses(formatRule(result));
      if (again instanceof SandboxError) return false;
      return formatRule(again) === formatRule(result);
    }),
    RUNS,
  );
  t.pass();
});

test('accepted names are plain lower-case ASCII with no wildcard but a whole first label', (t) => {
  fc.assert(
    fc.property(hostile, (raw) => {
      const rule = parses(raw);
      if (rule instanceof SandboxError || rule.kind !== 'host') return true;
      const plain = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(rule.host);
      const wildcardOk =
        !rule.wildcard || (raw.startsWith('*.') && rule.host.includes('.'));
      return plain && wildcardOk && rule.host.length <= 253;
    }),
    RUNS,
  );
  t.pass();
});

/** Entries confined to the `.test` zone and 198.18.0.0/15, in odd spellings. */
const confined = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('', '*.'),
      fc.stringMatching(/^[a-zA-Z0-9]{1,10}$/),
      fc.constantFrom('.test', '.TEST', '.test.'),
      fc.constantFrom('', ':443', ':80'),
    )
    .map((p) => p.join('')),
  fc
    .tuple(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 15, max: 32 }),
    )
    .map(([a, b, len]) => `198.18.${a}.${b}/${len}`),
  fc
    .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
    .map(([a, b]) => `::ffff:198.19.${a}.${b}`),
);

const outside = [
  { host: 'canary.example', port: 443 },
  { host: 'test', port: 80 },
  { host: 'evil.test.example', port: 80 },
  { host: '203.0.113.9', port: 443 },
  { host: '198.20.0.1', port: 80 },
  { host: '2001:db8::9', port: 443 },
];

test('a policy built from confined entries never allows anything outside them', (t) => {
  fc.assert(
    fc.property(fc.array(confined, { maxLength: 30 }), (entries) => {
      const allow = entries.map((e) => parseNetworkEntry(e, 'allow', source));
      return outside.every((dest) => !judge({ allow, deny: [] }, dest).allowed);
    }),
    RUNS,
  );
  t.pass();
});

test('a denied entry stays refused whatever is allowed', (t) => {
  fc.assert(
    fc.property(
      fc.array(confined, { minLength: 1, maxLength: 20 }),
      fc.nat(),
      (entries, pick) => {
        const allow = entries.map((e) => parseNetworkEntry(e, 'allow', source));
        const denied = allow[pick % allow.length]!;
        const probe =
          denied.kind === 'host'
            ? {
                host: denied.wildcard ? `x.${denied.host}` : denied.host,
                port: denied.port ?? 443,
              }
            : { host: denied.address, port: denied.port ?? 443 };
        return !judge({ allow, deny: [{ ...denied }] }, probe).allowed;
      },
    ),
    RUNS,
  );
  t.pass();
});

test('paths are refused or resolved inside what they name; `..` never widens', (t) => {
  const base = { home: '/home/job', cwd: '/builds/p' };
  const pathPieces = fc
    .array(
      fc.constantFrom(
        '~',
        '.',
        '..',
        '/',
        'a',
        '.ssh',
        '//',
        '/..',
        '\u0000',
        ' ',
        '~root',
        'tmp',
      ),
      { maxLength: 8 },
    )
    .map((p) => p.join(''));
  fc.assert(
    fc.property(fc.oneof(pathPieces, fc.string({ maxLength: 20 })), (raw) => {
      let resolved: string;
      try {
        resolved = parsePath(
          raw,
          'filesystem.allow_write[0]',
          base,
          source,
        ).path;
      } catch (error) {
        return (
          error instanceof SandboxError &&
          error.message.includes('filesystem.allow_write[0]')
        );
      }
      if (raw.split('/').includes('..')) return false;
      if (raw === '~' || raw.startsWith('~/'))
        return resolved.startsWith(base.home);
      if (raw === '.' || raw.startsWith('./'))
        return resolved.startsWith(base.cwd);
      return raw.startsWith('/');
    }),
    RUNS,
  );
  t.pass();
});

test('random documents as policy files: valid, or a clear CONFIG_INVALID / POLICY_INVALID', async (t) => {
  const { dump: stringify } = await import('js-yaml');
  const docs = fc.oneof(
    fc.anything({ maxDepth: 3 }).map((v) => {
      try {
        return stringify(v);
      } catch {
        return String(v);
      }
    }),
    fc
      .record(
        {
          network: fc.record(
            { allow: fc.array(hostile, { maxLength: 5 }) },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      )
      .map((v) => stringify(v)),
    fc.string({ maxLength: 80 }),
  );
  await fc.assert(
    fc.asyncProperty(docs, async (text) => {
      try {
        await parsePolicyFile(text, 'fuzz.yml');
        return true;
      } catch (error) {
        return (
          error instanceof SandboxError &&
          error.code === 'CONFIG_INVALID' &&
          error.message.startsWith('fuzz.yml: ')
        );
      }
    }),
    { ...RUNS, numRuns: 300 },
  );
  t.pass();
});

test('huge lists are bounded by the schema', async (t) => {
  const text = `network:\n  allow:\n${'    - a.test\n'.repeat(50_001)}`;
  await t.throwsAsync(parsePolicyFile(text, 'big.yml'), {
    message: /big\.yml: network\.allow/,
  });
});

test('an allowed block as broad as everything is refused; a broad deny is fine', (t) => {
  t.throws(() => parseNetworkEntry('0.0.0.0/0', 'network.allow[0]', source), {
    message: /too broad/,
  });
  t.throws(() => parseNetworkEntry('::/0', 'network.allow[0]', source), {
    message: /too broad/,
  });
  t.is(
    formatRule(
      parseNetworkEntry('0.0.0.0/0', 'network.deny[0]', source, 'deny'),
    ),
    '0.0.0.0/0',
  );
});
