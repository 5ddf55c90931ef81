import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  cleanUpRecord,
  reapStaleRuns,
} from '../../../src/engines/kernel/cleanup.js';
import type { KernelState } from '../../../src/engines/kernel/state.js';
import { memoryLogger } from '../../../src/log/logger.js';
import { fakeRunner } from '../../firewall/helpers.js';

async function runDirWith(root: string, runId: string, pid: number) {
  const poolDir = path.join(root, 'kernel-pool');
  const runDir = path.join(root, runId);
  await mkdir(poolDir, { recursive: true });
  await mkdir(path.join(runDir, 'fstab.d'), { recursive: true });
  const lease = path.join(poolDir, '7.lease');
  await writeFile(lease, JSON.stringify({ runId, pid }));
  const state: KernelState = {
    version: 1,
    engine: 'kernel',
    runId,
    pid,
    startedAt: '',
    objects: [
      { kind: 'lease', file: lease, poolDir },
      { kind: 'forwarding', poolDir },
      { kind: 'netns', name: `fsbx${runId}` },
      { kind: 'link', name: `fsbx${runId}h` },
      { kind: 'nft-table', family: 'inet', name: `fsbx${runId}` },
      { kind: 'files', paths: [path.join(runDir, 'fstab.d')] },
    ],
  };
  await writeFile(path.join(runDir, 'kernel.json'), JSON.stringify(state));
  return { poolDir, runDir, lease };
}

test('a record is undone firewall first, lease last, then removed', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fsbx-cleanup-'));
  try {
    const { runDir, lease } = await runDirWith(root, 'dead1', 1);
    const { runner, calls } = fakeRunner();
    t.deepEqual(await cleanUpRecord(runner, runDir), []);
    t.deepEqual(
      calls.map((c) => `${c.argv.join(' ')} ${c.input ?? ''}`.trim()),
      [
        'nft delete table inet fsbxdead1',
        'ip -force -batch - link del fsbxdead1h',
        'ip -force -batch - netns del fsbxdead1',
      ],
    );
    t.false(existsSync(lease));
    t.false(existsSync(runDir));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('only runs whose controller is gone are reaped', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fsbx-reap-'));
  try {
    const dead = spawnSync('true').pid!;
    const gone = await runDirWith(path.join(root, 'a'), 'gone', dead);
    const live = await runDirWith(path.join(root, 'b'), 'live', process.pid);
    const { runner } = fakeRunner();
    const log = memoryLogger();
    t.deepEqual(
      await reapStaleRuns({
        exec: runner,
        poolDir: gone.poolDir,
        stateRoot: path.join(root, 'a'),
        log,
      }),
      ['gone'],
    );
    t.deepEqual(
      await reapStaleRuns({
        exec: runner,
        poolDir: live.poolDir,
        stateRoot: path.join(root, 'b'),
        log,
      }),
      [],
    );
    t.false(existsSync(gone.runDir));
    t.true(existsSync(live.lease) && existsSync(live.runDir));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
