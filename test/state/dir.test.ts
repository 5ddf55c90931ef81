import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRunDir, removeRunDir } from '../../src/state/dir.js';

test('a run directory whose kernel record still lists objects is kept for cleanup', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'fsbx-unit-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const kept = await createRunDir(root, 'aaaaaaaa');
  await writeFile(
    path.join(kept, 'kernel.json'),
    JSON.stringify({ objects: [{ kind: 'netns', name: 'fsbxaaaaaaaa' }] }),
  );
  t.false(await removeRunDir(kept));
  t.true(existsSync(kept));
  const clean = await createRunDir(root, 'bbbbbbbb');
  await writeFile(
    path.join(clean, 'kernel.json'),
    JSON.stringify({ objects: [] }),
  );
  t.true(await removeRunDir(clean));
  t.false(existsSync(clean));
});
