import test from 'ava';
import { SandboxError } from '../../src/errors.js';
import {
  MAX_PROJECT_ENTRIES,
  parseAgentConfig,
} from '../../src/policy/agent-config.js';
import { parseOperatorPolicy } from '../../src/policy/operator.js';
import { merged } from './helpers.js';

const LABEL = '.gitlab/duo/agent-config.yml@abc (origin/main)';
const OP = '/etc/flow-sandbox/operator.yml';

const hosts = (n: number) =>
  Array.from({ length: n }, (_, i) => `h${i}.example.com`);

test(`a project list may hold ${MAX_PROJECT_ENTRIES} entries`, async (t) => {
  const yaml = `network_policy:\n  allowed_domains: ${JSON.stringify(hosts(1000))}\n  denied_domains: ${JSON.stringify(hosts(1000))}\n`;
  const p = await merged({ project: yaml });
  t.is(p.network.allow.filter((r) => r.source.kind === 'project').length, 1000);
  t.is(p.network.deny.length, 1000);
});

for (const field of ['allowed_domains', 'denied_domains']) {
  test(`a project ${field} of 1001 entries is refused, naming the field and the limit`, async (t) => {
    const yaml = `network_policy:\n  ${field}: ${JSON.stringify(hosts(1001))}\n`;
    const error = await t.throwsAsync(parseAgentConfig(yaml, LABEL));
    t.true(error instanceof SandboxError);
    t.is((error as SandboxError).code, 'CONFIG_INVALID');
    t.regex(
      error!.message,
      new RegExp(
        `network_policy\\.${field}: a list of 1001 entries is not accepted`,
      ),
    );
    t.regex(error!.message, /at most 1000 host, \*\.host, IP or CIDR entries/);
    t.true(error!.message.startsWith(LABEL));
  });
}

const projectErrors: [string, string, RegExp][] = [
  [
    'a bad entry',
    'network_policy:\n  allowed_domains: ["ok.test", "*.com"]\n',
    /network_policy\.allowed_domains\[1\]: "\*\.com" is not accepted \(a wildcard over a top-level domain is too broad\); expected a host name/,
  ],
  [
    'an entry that is not a string',
    'network_policy:\n  denied_domains: [42]\n',
    /network_policy\.denied_domains\.0: 42 is not accepted .*expected a list of at most 1000/,
  ],
  [
    'a misspelt key',
    'network_policy:\n  allowed_domain: [a.test]\n',
    /unknown field network_policy\.allowed_domain; accepted fields here: allowed_domains, denied_domains/,
  ],
  [
    'a string for a boolean',
    'network_policy:\n  include_recommended_allowed: "yes"\n',
    /network_policy\.include_recommended_allowed: "yes" is not accepted .*expected true or false/,
  ],
  [
    'a list for network_policy',
    'network_policy: [a.test]\n',
    /network_policy: a list of 1 entries is not accepted .*expected a mapping with allowed_domains/,
  ],
  ['broken YAML', 'network_policy: [a.test\n', /not valid YAML/],
];

for (const [what, yaml, pattern] of projectErrors) {
  test(`project file with ${what}: a clear error`, async (t) => {
    const error = await t.throwsAsync(async () => merged({ project: yaml }));
    t.true(error instanceof SandboxError);
    t.regex(error!.message, pattern);
    t.true(error!.message.includes('.gitlab/duo/agent-config.yml@'));
  });
}

test('an empty network_policy is no policy', async (t) => {
  t.deepEqual(await parseAgentConfig('network_policy:\n', LABEL), {
    network_policy: null,
  });
  const p = await merged({ project: 'network_policy:\n' });
  t.deepEqual(p.refused, []);
});

test('other agent-config keys are left alone', async (t) => {
  const c = await parseAgentConfig('image: foo\nsetup_script: [make]\n', LABEL);
  t.is(c.image, 'foo');
});

test('operator file: defaults to strict, nothing required', async (t) => {
  const op = await parseOperatorPolicy('', OP);
  t.is(op.mode, 'strict');
  t.false(op.requireSandboxForCustomImages);
  t.deepEqual(op.allow, []);
});

test('operator file: every field read', async (t) => {
  const op = await parseOperatorPolicy(
    'version: 1\nmode: flexible\nallowed_domains: [a.test]\ndenied_domains: ["*.b.test:443"]\nallow_all_unix_sockets: false\nrequire_sandbox_for_custom_images: true\nminimum_level: srt\n',
    OP,
  );
  t.is(op.mode, 'flexible');
  t.is(op.allow[0]!.source.origin, `${OP}: allowed_domains[0]`);
  t.is(op.deny[0]!.port, 443);
  t.false(op.allowAllUnixSockets);
  t.true(op.requireSandboxForCustomImages);
  t.is(op.minimumLevel, 'srt');
});

const operatorErrors: [string, string, RegExp][] = [
  [
    'an unknown mode',
    'mode: lenient',
    /: mode: "lenient" is not accepted .*expected strict \(projects may only narrow/,
  ],
  [
    'an unknown key',
    'allowed: [a.test]',
    /unknown field allowed; accepted fields here: version, mode, allowed_domains/,
  ],
  [
    'a bad entry',
    'denied_domains: ["a..test"]',
    /denied_domains\[0\]: "a\.\.test" is not accepted \(empty label\); expected a host name/,
  ],
  [
    'a bad level',
    'minimum_level: high',
    /minimum_level: "high" is not accepted .*expected one of none, kernel, srt/,
  ],
  [
    'a string for a boolean',
    'require_sandbox_for_custom_images: "true"',
    /require_sandbox_for_custom_images: "true" is not accepted .*expected true or false/,
  ],
  [
    'a list at the top',
    '- a.test',
    /\(top level\): a list of 1 entries is not accepted .*expected a YAML mapping with the keys/,
  ],
  ['duplicate keys', 'mode: strict\nmode: flexible', /not valid YAML/],
];

for (const [what, yaml, pattern] of operatorErrors) {
  test(`operator file with ${what}: a clear error naming the file`, async (t) => {
    const error = await t.throwsAsync(parseOperatorPolicy(yaml, OP));
    t.true(error instanceof SandboxError);
    t.regex(error!.message, pattern);
    t.true(error!.message.startsWith(OP));
  });
}
