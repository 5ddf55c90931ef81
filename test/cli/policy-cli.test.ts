import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { cli } from '../helpers/cli.js';
import { writeConfig } from '../helpers/git.js';

async function workdir(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** Runs a command that would leave a marker, and checks it did not run. */
async function refused(
  t: import('ava').ExecutionContext,
  dir: string,
  args: string[],
  env: Record<string, string> = {},
) {
  const marker = path.join(dir, 'ran');
  const r = await cli(
    dir,
    [
      'run',
      '--force-sandbox',
      '--engine',
      'none',
      ...args,
      '--',
      'touch',
      marker,
    ],
    { FLOW_SANDBOX_STATE_DIR: path.join(dir, 'state'), ...env },
  );
  t.is(r.exitCode, 125, r.stderr);
  t.false(await exists(marker), 'the command did not run');
  return r.stderr;
}

test('a malformed operator file: exit 125, nothing applied, the message names file, field, value and form', async (t) => {
  const dir = await workdir(t);
  const op = path.join(dir, 'operator.yml');
  await writeFile(op, 'mode: lenient\n');
  const stderr = await refused(t, dir, ['--operator-policy', op]);
  t.regex(
    stderr,
    new RegExp(`${op}: mode: "lenient" is not accepted .*expected strict`),
  );
  t.regex(stderr, /code=CONFIG_INVALID/);
});

test('the operator file also comes from FLOW_SANDBOX_OPERATOR_POLICY', async (t) => {
  const dir = await workdir(t);
  const op = path.join(dir, 'operator.yml');
  await writeFile(op, 'denied_domains: ["*.com"]\n');
  const stderr = await refused(t, dir, [], {
    FLOW_SANDBOX_OPERATOR_POLICY: op,
  });
  t.regex(stderr, /denied_domains\[0\]: "\*\.com" is not accepted/);
});

test('a missing operator file: exit 125', async (t) => {
  const dir = await workdir(t);
  const stderr = await refused(t, dir, [
    '--operator-policy',
    path.join(dir, 'nope.yml'),
  ]);
  t.regex(stderr, /operator policy .*nope\.yml cannot be read/);
});

test('a malformed project file: exit 125', async (t) => {
  const dir = await workdir(t);
  await writeConfig(dir, 'network_policy:\n  allowed_domains: ["a b"]\n');
  const stderr = await refused(t, dir, []);
  t.regex(
    stderr,
    /network_policy\.allowed_domains\[0\]: "a b" is not accepted/,
  );
});

test('a project list over 1000 entries: exit 125', async (t) => {
  const dir = await workdir(t);
  const hosts = Array.from({ length: 1001 }, (_, i) => `h${i}.test`);
  await writeConfig(
    dir,
    `network_policy:\n  denied_domains: ${JSON.stringify(hosts)}\n`,
  );
  const stderr = await refused(t, dir, []);
  t.regex(
    stderr,
    /network_policy\.denied_domains: a list of 1001 entries is not accepted/,
  );
});

test("the operator's minimum_level is enforced", async (t) => {
  const dir = await workdir(t);
  const op = path.join(dir, 'operator.yml');
  await writeFile(op, 'minimum_level: srt\n');
  const stderr = await refused(t, dir, ['--operator-policy', op]);
  t.regex(stderr, /--engine none is below the minimum sandbox level srt/);
});

test('--audit with an engine that cannot audit: exit 125, nothing ran', async (t) => {
  const dir = await workdir(t);
  const stderr = await refused(t, dir, ['--audit']);
  t.regex(stderr, /--audit cannot be honoured with engine none/);
});

test('the dry run shows each rule with its source, and the refused ones', async (t) => {
  const dir = await workdir(t);
  const op = path.join(dir, 'operator.yml');
  await writeFile(
    op,
    'mode: flexible\nallowed_domains: [op.test]\ndenied_domains: [evil.test]\n',
  );
  const config = path.join(dir, 'policy.yml');
  await writeFile(config, 'network:\n  allow: [config.test]\n');
  await writeConfig(
    dir,
    'network_policy:\n  allowed_domains: [project.test, evil.test]\n  include_recommended_allowed: true\n',
  );
  const r = await cli(
    dir,
    [
      'run',
      '--dry-run',
      '--json',
      '--force-sandbox',
      '--engine',
      'none',
      '--operator-policy',
      op,
      '--config',
      config,
      '--allow',
      'flag.test',
      '--',
      'true',
    ],
    { CI_SERVER_HOST: 'gitlab.test' },
  );
  t.is(r.exitCode, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  const by = (entry: string) =>
    plan.policy.network.allow.find((x: { entry: string }) => x.entry === entry)
      ?.source.kind;
  t.is(by('gitlab.test'), 'default');
  t.is(by('op.test'), 'operator');
  t.is(by('project.test'), 'project');
  t.is(by('pypi.org:443'), 'recommended');
  t.is(by('config.test'), 'config');
  t.is(by('flag.test'), 'flag');
  t.deepEqual(
    plan.policy.refused.map((x: { raw: string }) => x.raw),
    ['evil.test'],
  );
  t.deepEqual(
    plan.sources.map((s: { kind: string }) => s.kind),
    ['operator', 'project', 'config', 'flags', 'default'],
  );
  t.regex(r.stderr, /WARN: refused allow entry evil\.test from project/);
  const text = await cli(dir, [
    'run',
    '--dry-run',
    '--force-sandbox',
    '--engine',
    'none',
    '--operator-policy',
    op,
    '--',
    'true',
  ]);
  t.regex(
    text.stdout,
    /Policy sources \(strongest first\):\n {2}operator: .*operator\.yml \(mode flexible/,
  );
  t.regex(
    text.stdout,
    /Refused rules:\n {2}allow evil\.test from project: .*overlaps the operator's denied entry evil\.test/,
  );
});

test('many refused entries: the first logged one by one, the rest counted', async (t) => {
  const dir = await workdir(t);
  const op = path.join(dir, 'operator.yml');
  await writeFile(op, 'mode: strict\nallowed_domains: ["*.ok.test"]\n');
  const config = path.join(dir, 'policy.yml');
  const entries = Array.from({ length: 30 }, (_, i) => `    - h${i}.bad.test`);
  await writeFile(config, `network:\n  allow:\n${entries.join('\n')}\n`);
  const r = await cli(dir, [
    'run',
    '--dry-run',
    '--json',
    '--force-sandbox',
    '--engine',
    'none',
    '--operator-policy',
    op,
    '--config',
    config,
    '--',
    'true',
  ]);
  t.is(r.exitCode, 0, r.stderr);
  t.is(JSON.parse(r.stdout).policy.refused.length, 30);
  const one =
    r.stderr.match(/WARN: refused allow entry h\d+\.bad\.test/g) ?? [];
  t.is(one.length, 20);
  t.regex(r.stderr, /WARN: refused allow entry h0\.bad\.test from config/);
  t.regex(r.stderr, /WARN: refused 10 more entries, not shown one by one/);
});
