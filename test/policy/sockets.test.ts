import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { merged } from './helpers.js';

const sockets = (value: boolean) =>
  `network_policy:\n  allow_all_unix_sockets: ${value}\n`;

test('strict: a project cannot open every Unix socket', async (t) => {
  const p = await merged({ operator: 'mode: strict', project: sockets(true) });
  t.false(p.network.allowAllUnixSockets.value);
  t.is(p.refused[0]!.field, 'allow_all_unix_sockets');
  t.regex(p.refused[0]!.reason, /strict/);
});

test('flexible: a project may open every Unix socket', async (t) => {
  const p = await merged({
    operator: 'mode: flexible',
    project: sockets(true),
  });
  t.true(p.network.allowAllUnixSockets.value);
  t.is(p.network.allowAllUnixSockets.source.kind, 'project');
});

test("flexible: the operator's explicit false wins", async (t) => {
  const p = await merged({
    operator: 'mode: flexible\nallow_all_unix_sockets: false',
    project: sockets(true),
  });
  t.false(p.network.allowAllUnixSockets.value);
  t.is(p.network.allowAllUnixSockets.source.kind, 'operator');
  t.regex(p.refused[0]!.reason, /sets allow_all_unix_sockets: false/);
});

test("the operator's true applies even in strict mode", async (t) => {
  const p = await merged({ operator: 'allow_all_unix_sockets: true' });
  t.true(p.network.allowAllUnixSockets.value);
});

test('a project may always close the sockets (narrowing)', async (t) => {
  const p = await merged({ operator: 'mode: strict', project: sockets(false) });
  t.false(p.network.allowAllUnixSockets.value);
  t.deepEqual(p.refused, []);
});

test('the project file outranks --config for the same setting', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'policy.yml');
  await writeFile(config, 'network:\n  allow_all_unix_sockets: true\n');
  const p = await merged({ project: sockets(false), configFile: config });
  t.false(p.network.allowAllUnixSockets.value);
  t.is(p.network.allowAllUnixSockets.source.kind, 'project');
  const q = await merged({ configFile: config });
  t.true(q.network.allowAllUnixSockets.value);
  t.is(q.network.allowAllUnixSockets.source.kind, 'config');
});

test('strict: --config cannot widen either', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'policy.yml');
  await writeFile(
    config,
    'network:\n  allow: [outside.test]\n  allow_all_unix_sockets: true\n',
  );
  const p = await merged({ operator: 'mode: strict', configFile: config });
  t.deepEqual(
    p.refused.map((r) => `${r.field}:${r.raw}:${r.source.kind}`),
    ['allow:outside.test:config', 'allow_all_unix_sockets:true:config'],
  );
});
