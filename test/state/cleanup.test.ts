import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Context } from '../../src/context.js';
import type { KernelState } from '../../src/engines/kernel/state.js';
import { createLogger } from '../../src/log/logger.js';
import { cleanupDeadRuns } from '../../src/state/cleanup.js';
import { createRunDir, transitName } from '../../src/state/dir.js';
import { OWNER_FILE } from '../../src/state/owner.js';
import { fakeRunner } from '../firewall/helpers.js';

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

async function setup(t: { teardown(fn: () => Promise<void>): void }) {
  const root = await mkdtemp(path.join(tmpdir(), 'fsbx-cleanup-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const { runner, calls } = fakeRunner();
  const ctx: Context = {
    exec: runner,
    log: createLogger({ level: 'error', format: 'text', write: () => {} }),
    env: {},
    cwd: root,
  };
  return { root, ctx, calls };
}

/** A state directory as a run killed mid-setup leaves it. */
async function deadRun(
  dir: string,
  runId: string,
  pid: number,
  objects: KernelState['objects'],
) {
  await mkdir(dir, { recursive: true });
  const startedAt = new Date().toISOString();
  await writeFile(
    path.join(dir, OWNER_FILE),
    JSON.stringify({ runId, pid, startedAt, files: [] }),
  );
  const state: KernelState = {
    version: 1,
    engine: 'kernel',
    runId,
    pid,
    startedAt,
    objects,
  };
  await writeFile(path.join(dir, 'kernel.json'), JSON.stringify(state));
}

test('a run directory is created with its owner record, under no other name', async (t) => {
  const { root } = await setup(t);
  const dir = await createRunDir(root, 'a1b2c3d4');
  t.deepEqual(await readdir(root), ['a1b2c3d4']);
  t.deepEqual(await readdir(dir), [OWNER_FILE]);
});

test("a dead run's lease, files and state go; a live run's stay", async (t) => {
  const { root, ctx, calls } = await setup(t);
  const pool = path.join(root, 'kernel-pool');
  await mkdir(pool);
  await writeFile(
    path.join(pool, '3.lease'),
    JSON.stringify({ runId: 'dead0001' }),
  );
  await writeFile(
    path.join(pool, '4.lease'),
    JSON.stringify({ runId: 'a1b2c3d4' }),
  );
  const view = path.join(root, 'dead0001', 'view');
  await deadRun(path.join(root, 'dead0001'), 'dead0001', await deadPid(), [
    // The lease by run id: recorded before the claim, the slot unknown.
    { kind: 'lease', poolDir: pool, runId: 'dead0001' },
    { kind: 'netns', name: 'fsbxdead0001' },
    { kind: 'files', paths: [view] },
  ]);
  await mkdir(view);
  const live = await createRunDir(root, 'a1b2c3d4');

  const result = await cleanupDeadRuns(ctx, root);
  t.deepEqual(result, {
    removedRuns: ['dead0001'],
    liveRuns: ['a1b2c3d4'],
    failures: [],
  });
  t.deepEqual((await readdir(root)).sort(), ['a1b2c3d4', 'kernel-pool']);
  t.deepEqual(await readdir(pool), ['4.lease'], "only the dead run's lease");
  t.true(existsSync(path.join(live, OWNER_FILE)));
  t.true(
    calls.some((c) => c.argv.join(' ').endsWith('netns delete fsbxdead0001')),
    calls.map((c) => c.argv.join(' ')).join('; '),
  );
});

test('half-made and half-cleaned directories go with their process', async (t) => {
  const { root, ctx } = await setup(t);
  const gone = await deadPid();
  await mkdir(path.join(root, transitName('new', 'dead0002', gone)));
  await mkdir(path.join(root, transitName('new', 'a1b2c3d4')));
  await deadRun(
    path.join(root, transitName('clean', 'dead0003', gone)),
    'dead0003',
    gone,
    [],
  );
  await deadRun(
    path.join(root, transitName('clean', 'dead0004')),
    'dead0004',
    gone,
    [],
  );

  const result = await cleanupDeadRuns(ctx, root);
  t.deepEqual(result.removedRuns.sort(), ['dead0002', 'dead0003']);
  t.deepEqual(result.liveRuns.sort(), ['a1b2c3d4', 'dead0004']);
  t.deepEqual(
    (await readdir(root)).sort(),
    [transitName('clean', 'dead0004'), transitName('new', 'a1b2c3d4')].sort(),
  );
});

test('sweeps racing for one dead run: exactly one cleans it', async (t) => {
  const { root, ctx, calls } = await setup(t);
  await deadRun(path.join(root, 'dead0005'), 'dead0005', await deadPid(), [
    { kind: 'netns', name: 'fsbxdead0005' },
  ]);
  const results = await Promise.all(
    Array.from({ length: 8 }, () => cleanupDeadRuns(ctx, root)),
  );
  t.deepEqual(
    results.flatMap((r) => r.removedRuns),
    ['dead0005'],
  );
  t.deepEqual(
    results.flatMap((r) => r.failures),
    [],
  );
  t.is(calls.filter((c) => c.argv.includes('delete')).length, 1);
  t.deepEqual(await readdir(root), []);
});

test('a run whose objects could not all be removed is kept under its own name', async (t) => {
  const { root } = await setup(t);
  const isNft = (argv: readonly string[]) => argv[0]!.endsWith('nft');
  const { runner } = fakeRunner(isNft);
  const ctx: Context = {
    exec: {
      // nft says something other than "already gone".
      async run(argv, options) {
        const result = await runner.run(argv, options);
        return isNft(argv) ? { ...result, stderr: 'Error: busy' } : result;
      },
    },
    log: createLogger({ level: 'error', format: 'text', write: () => {} }),
    env: {},
    cwd: root,
  };
  await deadRun(path.join(root, 'dead0006'), 'dead0006', await deadPid(), [
    { kind: 'nft-table', family: 'inet', name: 'fsbxdead0006' },
  ]);
  const result = await cleanupDeadRuns(ctx, root);
  t.is(result.failures.length, 1);
  t.regex(result.failures[0]!, /dead0006: nft-table: .*busy/);
  t.deepEqual(
    await readdir(root),
    ['dead0006'],
    'the next cleanup tries again',
  );
});

test("a dead run's helper commands still at work are stopped; others' are not", async (t) => {
  const { root, ctx } = await setup(t);
  const helper = (runId: string) =>
    spawn('sleep', ['30'], { env: { FLOW_SANDBOX_HELPER_OF: runId } });
  const dead = helper('dead0007');
  const live = helper('a1b2c3d4');
  t.teardown(() => void live.kill('SIGKILL'));
  await deadRun(path.join(root, 'dead0007'), 'dead0007', await deadPid(), []);
  const ended = new Promise((resolve) =>
    dead.once('exit', (_, s) => resolve(s)),
  );
  await cleanupDeadRuns(ctx, root);
  t.is(await ended, 'SIGKILL');
  t.is(live.exitCode, null);
  t.is(live.signalCode, null);
});
