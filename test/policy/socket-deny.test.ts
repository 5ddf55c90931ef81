import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { srtSettings } from '../../src/engines/srt/settings.js';
import { planMounts } from '../../src/mounts/plan.js';
import { planToJson, planToText } from '../../src/plan/render.js';
import type { RunPlan } from '../../src/plan/types.js';
import type { Policy } from '../../src/policy/types.js';
import { BASE, merged, operator } from './helpers.js';

const DOCKER = '/var/run/docker.sock';

async function configFile(t: ExecutionContext, yaml: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'policy.yml');
  await writeFile(file, yaml);
  return file;
}

const paths = (list: Array<{ path: string }>) => list.map((r) => r.path);

function mounts(policy: Policy) {
  return planMounts({
    policy,
    cwd: BASE.cwd,
    home: BASE.home,
    stateDirs: ['/run/flow-sandbox'],
    resolvConf: {
      source: '/run/flow-sandbox/r/resolv.conf',
      target: '/etc/resolv.conf',
    },
    devStaging: '/run/flow-sandbox/r/dev',
  });
}

test('by default the Docker socket is allowed and nothing is denied', async (t) => {
  const p = await merged({});
  t.deepEqual(paths(p.network.unixSockets), [DOCKER]);
  t.deepEqual(p.network.denyUnixSockets, []);
});

// A policy file extends the defaults: `unix_sockets: []` changes nothing,
// which is why the deny list exists.
test('an empty unix_sockets list in --config keeps the built-in Docker socket', async (t) => {
  const file = await configFile(t, 'network:\n  unix_sockets: []\n');
  const p = await merged({ configFile: file });
  t.deepEqual(paths(p.network.unixSockets), [DOCKER]);
});

test('--config deny_unix_sockets takes the built-in Docker socket away', async (t) => {
  const file = await configFile(
    t,
    `network:\n  deny_unix_sockets: [${DOCKER}]\n`,
  );
  const p = await merged({ configFile: file });
  t.deepEqual(p.network.unixSockets, []);
  t.deepEqual(paths(p.network.denyUnixSockets), [DOCKER]);
  t.is(p.network.denyUnixSockets[0]!.source.kind, 'config');
  t.regex(
    p.network.denyUnixSockets[0]!.source.origin,
    /policy\.yml: network\.deny_unix_sockets\[0\]/,
  );
  t.deepEqual(p.refused, []);
});

test('a socket denied and allowed in the same file stays denied', async (t) => {
  const file = await configFile(
    t,
    'network:\n  unix_sockets: [/run/a.sock]\n  deny_unix_sockets: [/run/a.sock]\n',
  );
  const p = await merged({ configFile: file });
  t.deepEqual(paths(p.network.unixSockets), [DOCKER]);
  t.deepEqual(paths(p.network.denyUnixSockets), ['/run/a.sock']);
});

test("the operator's denied_unix_sockets win over every weaker source", async (t) => {
  const file = await configFile(
    t,
    `network:\n  unix_sockets: [${DOCKER}, /run/other.sock]\n`,
  );
  const p = await merged({
    operator: `mode: flexible\ndenied_unix_sockets: [${DOCKER}]`,
    configFile: file,
  });
  t.deepEqual(paths(p.network.unixSockets), ['/run/other.sock']);
  t.is(p.network.denyUnixSockets[0]!.source.kind, 'operator');
  t.deepEqual(
    p.refused.map((r) => `${r.field}:${r.raw}:${r.source.kind}`),
    [`unix_sockets:${DOCKER}:config`],
  );
  t.regex(p.refused[0]!.reason, /operator denies this socket/);
});

test('a denied socket stays denied when every socket is allowed', async (t) => {
  const file = await configFile(
    t,
    `network:\n  allow_all_unix_sockets: true\n  deny_unix_sockets: [${DOCKER}]\n`,
  );
  const p = await merged({ configFile: file });
  t.true(p.network.allowAllUnixSockets.value);
  t.deepEqual(paths(p.network.denyUnixSockets), [DOCKER]);
});

test('operator socket denials must be absolute paths', async (t) => {
  await t.throwsAsync(operator('denied_unix_sockets: [~/agent.sock]'), {
    message: /denied_unix_sockets\[0\].*absolute/,
  });
  await t.throwsAsync(operator('denied_unix_sockets: [/run/../x.sock]'), {
    message: /`\.\.` segment/,
  });
});

test('--config refuses a deny_unix_sockets entry that is not a path', async (t) => {
  const file = await configFile(t, 'network:\n  deny_unix_sockets: [docker]\n');
  await t.throwsAsync(merged({ configFile: file }), {
    message: /deny_unix_sockets\[0\].*relative path/,
  });
});

test('SRT without the Docker socket allows no Unix socket at all', async (t) => {
  const file = await configFile(
    t,
    `network:\n  deny_unix_sockets: [${DOCKER}]\n`,
  );
  const { settings, warnings } = srtSettings(
    await merged({ configFile: file }),
    [],
  );
  t.false(settings.network.allowAllUnixSockets);
  t.deepEqual(settings.network.allowUnixSockets, []);
  t.true(settings.filesystem.denyRead.includes(DOCKER));
  t.false(warnings.some((w) => w.includes('every Unix socket is allowed')));
});

test('SRT with every socket open masks a denied one by path, and says so', async (t) => {
  const file = await configFile(
    t,
    `network:\n  allow_all_unix_sockets: true\n  deny_unix_sockets: [${DOCKER}]\n`,
  );
  const { settings, warnings } = srtSettings(
    await merged({ configFile: file }),
    [],
  );
  t.true(settings.network.allowAllUnixSockets);
  t.true(settings.filesystem.denyRead.includes(DOCKER));
  t.true(
    warnings.some(
      (w) => w.includes(`except ${DOCKER}, masked`) && w.includes('hard link'),
    ),
  );
});

test('the kernel view hides a denied socket, also when every socket is allowed', async (t) => {
  const file = await configFile(
    t,
    `network:\n  deny_unix_sockets: [${DOCKER}]\n`,
  );
  const closed = mounts(await merged({ configFile: file }));
  t.deepEqual(closed.sockets.allowed, []);
  t.true(closed.sockets.hide);

  const open = await configFile(
    t,
    `network:\n  allow_all_unix_sockets: true\n  deny_unix_sockets: [${DOCKER}]\n`,
  );
  const view = mounts(await merged({ configFile: open }));
  t.false(view.sockets.hide);
  const step = view.steps.find((s) => s.kind === 'hide' && s.path === DOCKER);
  t.truthy(step);
  t.regex((step as { why: string }).why, /^deny_unix_sockets /);
});

test('the dry run lists denied sockets with their source', async (t) => {
  const file = await configFile(
    t,
    `network:\n  deny_unix_sockets: [${DOCKER}]\n`,
  );
  const policy = await merged({ configFile: file });
  const plan = {
    runId: 'r',
    decision: { apply: true, reason: 'test', conditions: [] },
    policy,
    engine: {
      chosen: 'none',
      requested: 'none',
      minimumLevel: 'none',
      candidates: [],
      reason: 'test',
    },
    command: { argv: ['true'], cwd: BASE.cwd },
    stateDir: '/run/flow-sandbox/r',
    enginePlan: { engine: 'none', warnings: [], details: {} },
  } as unknown as RunPlan;
  t.regex(
    planToText(plan),
    /denied unix sockets \(win over every allowance\):\n +\/var\/run\/docker\.sock +from config: /,
  );
  const json = planToJson(plan) as {
    policy: { network: { unixSockets: unknown[]; denyUnixSockets: unknown[] } };
  };
  t.deepEqual(json.policy.network.unixSockets, []);
  t.is(json.policy.network.denyUnixSockets.length, 1);
});
