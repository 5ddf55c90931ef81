import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  RunRecord,
  type KernelState,
} from '../../../src/engines/kernel/state.js';

test('the record lists what exists right now, and goes when empty', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-state-'));
  try {
    const record = RunRecord.in(dir, 'a1b2c3d4');
    const read = () =>
      JSON.parse(readFileSync(record.file, 'utf8')) as KernelState;
    t.deepEqual(read().objects, []);
    record.add({ kind: 'netns', name: 'fsbxa1b2c3d4' });
    record.add({ kind: 'nft-table', family: 'inet', name: 'fsbxa1b2c3d4' });
    t.is(read().runId, 'a1b2c3d4');
    t.is(read().pid, process.pid);
    t.deepEqual(
      read().objects.map((o) => o.kind),
      ['netns', 'nft-table'],
    );
    record.remove({ kind: 'netns', name: 'fsbxa1b2c3d4' });
    record.discard();
    t.true(existsSync(record.file), 'kept while an object is left');
    record.remove({ kind: 'nft-table', family: 'inet', name: 'fsbxa1b2c3d4' });
    record.discard();
    t.false(existsSync(record.file));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
