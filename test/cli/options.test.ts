import test from 'ava';
import { resolveRunOptions } from '../../src/cli/options.js';

const engines = ['srt', 'none'] as const;
const resolve = (flags: object, env: Record<string, string> = {}) =>
  resolveRunOptions(flags, env, ['true'], engines);

test('defaults', (t) => {
  const o = resolve({});
  t.is(o.engine, 'auto');
  t.is(o.minimumLevel, 'none');
  t.is(o.logLevel, 'info');
  t.is(o.logFormat, 'text');
  t.false(o.dryRun);
});

test('environment variables set each option', (t) => {
  const o = resolve(
    {},
    {
      FLOW_SANDBOX_ENGINE: 'srt',
      FLOW_SANDBOX_MINIMUM_LEVEL: 'srt',
      FLOW_SANDBOX_LOG_LEVEL: 'debug',
      FLOW_SANDBOX_LOG_FORMAT: 'json',
      FLOW_SANDBOX_DRY_RUN: 'true',
      FLOW_SANDBOX_JSON: '1',
      FLOW_SANDBOX_FORCE_SANDBOX: 'yes',
      FLOW_SANDBOX_CONFIG: '/etc/p.yml',
      FLOW_SANDBOX_ALLOW: 'a.example.com, b.example.com',
    },
  );
  t.is(o.engine, 'srt');
  t.is(o.minimumLevel, 'srt');
  t.is(o.logLevel, 'debug');
  t.is(o.logFormat, 'json');
  t.true(o.dryRun && o.json && o.forceSandbox);
  t.is(o.config, '/etc/p.yml');
  t.deepEqual(o.allow.entries, ['a.example.com', 'b.example.com']);
  t.is(o.allow.source.origin, 'FLOW_SANDBOX_ALLOW');
});

test('the flag wins over the environment', (t) => {
  const o = resolve(
    {
      engine: 'none',
      logLevel: 'warn',
      allow: ['c.example.com'],
      dryRun: false,
    },
    {
      FLOW_SANDBOX_ENGINE: 'srt',
      FLOW_SANDBOX_LOG_LEVEL: 'debug',
      FLOW_SANDBOX_ALLOW: 'a.example.com',
      FLOW_SANDBOX_DRY_RUN: 'true',
    },
  );
  t.is(o.engine, 'none');
  t.is(o.logLevel, 'warn');
  t.deepEqual(o.allow.entries, ['c.example.com']);
  t.is(o.allow.source.kind, 'flag');
  t.false(o.dryRun);
});

const bad: Array<[object, Record<string, string>, RegExp]> = [
  [
    { engine: 'docker' },
    {},
    /--engine: "docker" is not accepted; expected one of auto, srt, none/,
  ],
  [{}, { FLOW_SANDBOX_ENGINE: 'x' }, /FLOW_SANDBOX_ENGINE: "x"/],
  [{ minimumLevel: 'high' }, {}, /--minimum-level: "high".*one of none, srt/],
  [
    { logLevel: 'verbose' },
    {},
    /--log-level: "verbose".*error, warn, info, debug/,
  ],
  [
    {},
    { FLOW_SANDBOX_DRY_RUN: 'maybe' },
    /FLOW_SANDBOX_DRY_RUN: "maybe".*true or false/,
  ],
  // A self-test against these would pass without proving anything.
  ...['127.0.0.1', '::1', '0.0.0.0', '::ffff:127.0.0.2', '224.0.0.1'].map(
    (address): [object, Record<string, string>, RegExp] => [
      { selftestAddress: address },
      {},
      /--selftest-address: ".*" is not accepted \(a (loopback|unspecified|multicast) address is refused or unreachable with or without a sandbox\); expected an IPv4 or IPv6 address of a host outside the machine/,
    ],
  ),
  [
    {},
    { FLOW_SANDBOX_SELFTEST_ADDRESS: 'localhost' },
    /FLOW_SANDBOX_SELFTEST_ADDRESS: "localhost".*an IPv4 or IPv6 address/,
  ],
];

for (const [flags, env, message] of bad) {
  test(`refuses ${JSON.stringify({ ...flags, ...env })}`, (t) => {
    t.throws(() => resolve(flags, env), { message });
  });
}

test('a command is required', (t) => {
  t.throws(() => resolveRunOptions({}, {}, [], engines), {
    message: /COMMAND.*a command after `--`/,
  });
});
