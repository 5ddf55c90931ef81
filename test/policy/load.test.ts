import test from 'ava';
import { parsePolicyFile } from '../../src/policy/load.js';
import { buildPolicy } from '../../src/policy/build.js';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatRule } from '../../src/policy/types.js';

const base = { home: '/home/job', cwd: '/builds/p' };

test('a valid file parses', async (t) => {
  const file = await parsePolicyFile(
    'network:\n  allow: [a.example.com]\nfilesystem:\n  allow_git_config: false\n',
    'p.yml',
  );
  t.deepEqual(file.network?.allow, ['a.example.com']);
  t.false(file.filesystem?.allow_git_config);
});

test('an empty file is an empty policy', async (t) => {
  t.deepEqual(await parsePolicyFile('', 'p.yml'), {});
});

const broken: Array<[string, string, RegExp]> = [
  ['broken YAML', 'network: [', /p\.yml: not valid YAML/],
  ['unknown top-level key', 'netwrok: {}\n', /unknown field netwrok/],
  [
    'unknown nested key',
    'network:\n  alow: []\n',
    /unknown field network\.alow/,
  ],
  [
    'wrong type',
    'network:\n  allow: gitlab.test\n',
    /network\.allow: "gitlab\.test" is not accepted.*expected a list/,
  ],
  [
    'wrong boolean',
    'network:\n  allow_local_binding: "yes"\n',
    /network\.allow_local_binding: "yes".*expected true or false/,
  ],
  ['not a mapping', '- a\n- b\n', /\(top level\)/],
  ['duplicate keys', 'network: {}\nnetwork: {}\n', /not valid YAML/],
];

for (const [name, text, message] of broken) {
  test(`refuses ${name}`, async (t) => {
    await t.throwsAsync(parsePolicyFile(text, 'p.yml'), { message });
  });
}

test('buildPolicy: defaults, file and flags, each rule with its source', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'fsbx-unit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'policy.yml');
  await writeFile(
    file,
    'network:\n  allow: [registry.npmjs.org]\n  deny: [api.gitlab.test]\n',
  );
  const policy = await buildPolicy({
    env: { CI_SERVER_URL: 'https://gitlab.test:8443/' },
    base,
    configFile: file,
    allow: [
      {
        entries: ['198.18.0.0/24'],
        source: { kind: 'flag', origin: '--allow' },
      },
    ],
    deny: [],
  });
  const allow = policy.network.allow.map((r) => [
    formatRule(r),
    r.source.kind,
    r.source.origin,
  ]);
  t.deepEqual(allow, [
    ['localhost', 'default', 'built-in'],
    ['host.docker.internal', 'default', 'built-in'],
    ['gitlab.test', 'default', 'CI_SERVER_URL'],
    ['*.gitlab.test', 'default', 'CI_SERVER_URL'],
    ['registry.npmjs.org', 'config', `${file}: network.allow[0]`],
    ['198.18.0.0/24', 'flag', '--allow'],
  ]);
  t.deepEqual(policy.network.deny.map(formatRule), ['api.gitlab.test']);
  t.deepEqual(
    policy.filesystem.denyRead.map((p) => p.path),
    ['/home/job/.ssh'],
  );
  t.deepEqual(
    policy.filesystem.allowWrite.map((p) => p.path),
    ['/builds/p', '/tmp'],
  );
});

test('buildPolicy: a missing file is an error naming it', async (t) => {
  await t.throwsAsync(
    buildPolicy({
      env: {},
      base,
      configFile: '/nonexistent/p.yml',
      allow: [],
      deny: [],
    }),
    { message: /policy file \/nonexistent\/p\.yml cannot be read/ },
  );
});

test('buildPolicy: CI_SERVER_HOST wins over CI_SERVER_URL; an invalid host is refused', async (t) => {
  const policy = await buildPolicy({
    env: {
      CI_SERVER_HOST: 'GitLab.Example.com',
      CI_SERVER_URL: 'https://other.example',
    },
    base,
    allow: [],
    deny: [],
  });
  t.true(
    policy.network.allow.some(
      (r) =>
        r.kind === 'host' &&
        r.host === 'gitlab.example.com' &&
        r.source.origin === 'CI_SERVER_HOST',
    ),
  );
  await t.throwsAsync(
    buildPolicy({
      env: { CI_SERVER_HOST: 'bad..host' },
      base,
      allow: [],
      deny: [],
    }),
    { message: /CI_SERVER_HOST: "bad\.\.host"/ },
  );
});
