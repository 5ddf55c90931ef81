import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cli, tempDir } from './helpers.js';

async function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const state = path.join(dir, 'state');
  const marker = path.join(dir, 'ran');
  return { dir, state, marker, env: { FLOW_SANDBOX_STATE_DIR: state } };
}

const refusals: Array<[string, string[], RegExp]> = [
  [
    'an unknown flag',
    ['run', '--allwo', 'x', '--'],
    /unknown option '--allwo'/,
  ],
  [
    'a malformed domain',
    ['run', '--allow', 'a..b', '--'],
    /--allow: "a\.\.b" is not accepted \(empty label\); expected a host name/,
  ],
  [
    'a bare wildcard',
    ['run', '--allow', '*', '--'],
    /--allow: "\*" is not accepted/,
  ],
  [
    'a wildcard TLD',
    ['run', '--allow', '*.com', '--'],
    /--allow: "\*\.com" is not accepted \(a wildcard over a top-level domain is too broad\)/,
  ],
  [
    'a nested wildcard',
    ['run', '--allow', '*.*.x', '--'],
    /--allow: "\*\.\*\.x" is not accepted/,
  ],
  [
    'an unknown engine',
    ['run', '--engine', 'docker', '--'],
    /--engine: "docker" is not accepted; expected one of auto/,
  ],
  [
    'a URL where a host is expected',
    ['run', '--allow', 'https://pypi.org/simple', '--'],
    /--allow: "https:\/\/pypi\.org\/simple" is not accepted \(a URL: give the host name alone/,
  ],
  [
    '--audit-report without --audit',
    ['run', '--audit-report', 'audit.json', '--'],
    /--audit-report: "audit\.json" is not accepted \(no audit is asked for\); expected with --audit/,
  ],
  [
    'a missing config file',
    ['run', '--config', '/nonexistent.yml', '--'],
    /policy file \/nonexistent\.yml cannot be read/,
  ],
];

for (const [name, args, message] of refusals) {
  test(`${name} exits 125, names the problem and runs nothing`, async (t) => {
    const s = await setup(t);
    const result = await cli([...args, 'touch', s.marker], s.env);
    t.is(result.exitCode, 125, result.stderr);
    t.regex(result.stderr, message);
    t.false(existsSync(s.marker), 'the command must not run');
    t.false(existsSync(s.state), 'nothing may be created on the host');
  });
}

test('no subcommand: the usage and exit 125', async (t) => {
  const result = await cli([], {});
  t.is(result.exitCode, 125);
  t.regex(result.stderr, /Usage: flow-sandbox/);
  t.regex(
    result.stderr,
    /a subcommand is needed: run, selftest, doctor or cleanup/,
  );
});

test('a broken config file exits 125 naming file and field', async (t) => {
  const s = await setup(t);
  const config = path.join(s.dir, 'policy.yml');
  await writeFile(config, 'network:\n  allow: [gitlab.test, "bad..name"]\n');
  const result = await cli(
    ['run', '--config', config, '--', 'touch', s.marker],
    s.env,
  );
  t.is(result.exitCode, 125);
  t.regex(
    result.stderr,
    new RegExp(
      `${config}: network\\.allow\\[1\\]: "bad\\.\\.name" is not accepted`,
    ),
  );
  t.false(existsSync(s.marker));
});

test('options a run would ignore are named: --json without --dry-run, an allow_write path that does not exist', async (t) => {
  const s = await setup(t);
  const config = path.join(s.dir, 'policy.yml');
  // Outside every writable path (the test's directory is under /tmp).
  const missing = `/var/lib/fsbx-test-missing-${path.basename(s.dir)}`;
  const inside = path.join(s.dir, 'work', 'out');
  await mkdir(path.join(s.dir, 'work'));
  await writeFile(
    config,
    `filesystem:\n  allow_write: [${JSON.stringify(missing)}, ${JSON.stringify(path.join(s.dir, 'work'))}, ${JSON.stringify(inside)}]\n`,
  );
  const result = await cli(
    [
      'run',
      '--force-sandbox',
      '--engine',
      'none',
      '--json',
      '--config',
      config,
      '--',
      'touch',
      s.marker,
    ],
    s.env,
    s.dir,
  );
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stderr, /WARN: --json shapes the plan a dry run prints/);
  t.regex(
    result.stderr,
    new RegExp(
      `WARN: allow_write ${missing} \\(${config}: filesystem\\.allow_write\\[0\\]\\): ${missing} does not exist when the run starts`,
    ),
  );
  // A missing path inside another writable path can be created there.
  t.false(result.stderr.includes(`allow_write ${inside}`), result.stderr);
  t.true(existsSync(s.marker));
});

test('an invalid agent config exits 125', async (t) => {
  const s = await setup(t);
  await mkdir(path.join(s.dir, '.gitlab/duo'), { recursive: true });
  await writeFile(
    path.join(s.dir, '.gitlab/duo/agent-config.yml'),
    'image: [\n',
  );
  const result = await cli(['run', '--', 'touch', s.marker], s.env, s.dir);
  t.is(result.exitCode, 125);
  t.regex(result.stderr, /agent-config\.yml: not valid YAML/);
  t.false(existsSync(s.marker));
});

test('outside CI the command runs directly and the log says why', async (t) => {
  const s = await setup(t);
  const result = await cli(
    ['run', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7'],
    s.env,
  );
  t.is(result.exitCode, 7);
  t.is(result.stdout, 'out');
  t.regex(result.stderr, /sandbox does not apply: .*not on a CI runner/);
  t.regex(result.stderr, /^err$/m);
});

test('the dry run prints decision, policy sources, engine and SRT settings; JSON too', async (t) => {
  const s = await setup(t);
  const env = {
    ...s.env,
    GITLAB_CI: 'true',
    CI_SERVER_HOST: 'gitlab.test',
    CI_JOB_IMAGE:
      'registry.gitlab.com/gitlab-org/duo-workflow/default-docker-image:v0.0.6',
  };
  const text = await cli(
    [
      'run',
      '--dry-run',
      '--allow',
      'pypi.org:443',
      '--engine',
      'srt',
      '--',
      'touch',
      s.marker,
    ],
    env,
  );
  t.is(text.exitCode, 0, text.stderr);
  t.regex(text.stdout, /Decision: sandbox applies/);
  t.regex(text.stdout, /\*\.gitlab\.test\s+from default: CI_SERVER_HOST/);
  t.regex(text.stdout, /pypi\.org:443\s+from flag: --allow/);
  t.regex(text.stdout, /Engine plan \(srt|none\)/);
  const json = await cli(
    [
      'run',
      '--dry-run',
      '--json',
      '--allow',
      'pypi.org:443',
      '--',
      'touch',
      s.marker,
    ],
    env,
  );
  const plan = JSON.parse(json.stdout);
  t.true(plan.decision.apply);
  t.deepEqual(plan.policy.network.allow.at(-1), {
    entry: 'pypi.org:443',
    raw: 'pypi.org:443',
    source: { kind: 'flag', origin: '--allow' },
  });
  t.true(['srt', 'none'].includes(plan.engine.chosen));
  if (plan.engine.chosen === 'srt') {
    t.true(
      plan.enginePlan.details.settings.network.allowedDomains.includes(
        'pypi.org:443',
      ),
    );
  }
  t.false(existsSync(s.marker));
  t.false(existsSync(s.state));
});

test('--log-level and FLOW_SANDBOX_LOG_LEVEL set the same level; the flag wins', async (t) => {
  const s = await setup(t);
  const debugLine = /"level":"debug"/;
  const byFlag = await cli(
    [
      'run',
      '--log-level',
      'debug',
      '--log-format',
      'json',
      '--engine',
      'none',
      '--force-sandbox',
      '--',
      'true',
    ],
    s.env,
  );
  const byEnv = await cli(
    ['run', '--engine', 'none', '--force-sandbox', '--', 'true'],
    {
      ...s.env,
      FLOW_SANDBOX_LOG_LEVEL: 'debug',
      FLOW_SANDBOX_LOG_FORMAT: 'json',
    },
  );
  const flagWins = await cli(
    [
      'run',
      '--log-level',
      'error',
      '--engine',
      'none',
      '--force-sandbox',
      '--',
      'true',
    ],
    {
      ...s.env,
      FLOW_SANDBOX_LOG_LEVEL: 'debug',
      FLOW_SANDBOX_LOG_FORMAT: 'json',
    },
  );
  t.regex(byFlag.stderr, debugLine);
  t.regex(byEnv.stderr, debugLine);
  t.is(flagWins.stderr.trim(), '');
});
