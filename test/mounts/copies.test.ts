import test from 'ava';
import {
  chmod,
  chown,
  lstat,
  rename,
  symlink,
  link,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { copyLinkedFiles, copyTempNames } from '../../src/mounts/copies.js';
import { searchLinks } from '../../src/policy/links.js';

async function world(t: { teardown(fn: () => Promise<void>): void }) {
  const base = await mkdtemp(path.join(os.tmpdir(), 'fsbx-copies-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  const work = path.join(base, 'work');
  await mkdir(path.join(work, 'sub'), { recursive: true });
  const outside = path.join(base, 'outside');
  await writeFile(outside, 'outside\n');
  await chmod(outside, 0o640);
  await utimes(outside, 1_000_000, 2_000_000);
  return { base, work, outside };
}

test('a file linked in from outside gets a copy of its own; its names inside stay one file', async (t) => {
  const w = await world(t);
  const a = path.join(w.work, 'a');
  const b = path.join(w.work, 'sub', 'b');
  await link(w.outside, a);
  await link(w.outside, b);
  const { linkedIn } = await searchLinks([], [w.work]);
  t.is(await copyLinkedFiles(linkedIn, 'run1'), 1);

  await writeFile(a, 'changed in the checkout\n');
  t.is(await readFile(w.outside, 'utf8'), 'outside\n');
  t.is(await readFile(b, 'utf8'), 'changed in the checkout\n');
  const [sa, so] = [await stat(a), await stat(w.outside)];
  t.is(sa.nlink, 2);
  t.is(so.nlink, 1);
  t.is(sa.mode & 0o7777, 0o640);
  t.is(sa.uid, so.uid);
  t.deepEqual(await readdir(w.work), ['a', 'sub']);
  t.deepEqual((await searchLinks([], [w.work])).linkedIn, []);
});

test('the copy keeps the modification time', async (t) => {
  const w = await world(t);
  const a = path.join(w.work, 'a');
  await link(w.outside, a);
  const { linkedIn } = await searchLinks([], [w.work]);
  await copyLinkedFiles(linkedIn, 'run1');
  t.is((await stat(a)).mtimeMs, 2_000_000_000);
  t.is((await stat(a)).nlink, 1);
});

test('a file gone or unlinked since the search is skipped; one replaced by another linked file stops the run', async (t) => {
  const w = await world(t);
  const a = path.join(w.work, 'a');
  await link(w.outside, a);
  const { linkedIn } = await searchLinks([], [w.work]);
  await rm(a);
  t.is(await copyLinkedFiles(linkedIn, 'run1'), 0);

  const other = path.join(w.base, 'other');
  await writeFile(other, 'other\n');
  await link(other, a);
  const error = await t.throwsAsync(copyLinkedFiles(linkedIn, 'run1'));
  t.is((error as { code?: string }).code, 'APPLY_FAILED');
  t.regex(error!.message, /changed while the run was being prepared/);
  t.deepEqual((await readdir(w.work)).sort(), ['a', 'sub']);
});

test('the temporary names a killed copy may leave are the ones recorded', (t) => {
  const files = [
    {
      paths: ['/w/a', '/w/s/b'],
      roots: ['/w', '/w'],
      rootIds: ['1:1', '1:1'],
      links: 3,
      inode: '1:2',
    },
    {
      paths: ['/w/c'],
      roots: ['/w'],
      rootIds: ['1:1'],
      links: 2,
      inode: '1:3',
    },
  ];
  t.deepEqual(copyTempNames(files, 'abcd1234'), [
    '/w/.fsbx-copy-abcd1234-0',
    '/w/s/.fsbx-copy-abcd1234-1',
    '/w/.fsbx-copy-abcd1234-2',
  ]);
});

// Found by an attack: a directory swapped for a symlink between the search
// and the copy made the root controller write, chown and chmod elsewhere.
test('a directory swapped for a symlink after the search stops the copy; nothing is written elsewhere', async (t) => {
  const w = await world(t);
  const d1 = path.join(w.work, 'sub');
  await link(w.outside, path.join(d1, 'passwd'));
  const victim = path.join(w.base, 'victim');
  await mkdir(victim);
  await writeFile(path.join(victim, 'passwd'), 'ORIGINAL\n');
  const { linkedIn } = await searchLinks([], [w.work]);
  await rename(d1, `${d1}.old`);
  await symlink(victim, d1);
  const error = await t.throwsAsync(copyLinkedFiles(linkedIn, 'run1'));
  t.regex(error!.message, /sub is no longer a directory of its own/);
  t.deepEqual(await readdir(victim), ['passwd']);
  t.is(await readFile(path.join(victim, 'passwd'), 'utf8'), 'ORIGINAL\n');
  t.is((await lstat(path.join(victim, 'passwd'))).nlink, 1);
});

test('a copy keeps another owner and a setuid mode, and is never root-owned with it', async (t) => {
  if (process.getuid?.() !== 0) {
    t.log('skipped: needs root to give a file another owner');
    t.pass();
    return;
  }
  const w = await world(t);
  await chown(w.outside, 65534, 65534);
  await chmod(w.outside, 0o4755);
  const a = path.join(w.work, 'a');
  await link(w.outside, a);
  const { linkedIn } = await searchLinks([], [w.work]);
  t.is(await copyLinkedFiles(linkedIn, 'run1'), 1);
  const copy = await stat(a);
  t.is(copy.uid, 65534);
  t.is(copy.mode & 0o7777, 0o4755);
  t.is(copy.nlink, 1);
});

// Found by a second attack: the root itself swapped for a symlink, and a
// second name swapped for another file between the search and the copy.
test('a writable root swapped after the search, or another name replaced, stops the copy', async (t) => {
  const w = await world(t);
  await link(w.outside, path.join(w.work, 'a'));
  await link(w.outside, path.join(w.work, 'sub', 'b'));
  const { linkedIn } = await searchLinks([], [w.work]);
  await rm(path.join(w.work, 'sub', 'b'));
  await writeFile(path.join(w.work, 'sub', 'b'), 'someone else\n');
  const error = await t.throwsAsync(copyLinkedFiles(linkedIn, 'run1'));
  t.regex(error!.message, /sub\/b changed while the run was being prepared/);
  t.is(await readFile(path.join(w.work, 'sub', 'b'), 'utf8'), 'someone else\n');
  t.deepEqual((await readdir(path.join(w.work, 'sub'))).sort(), ['b']);

  const victim = path.join(w.base, 'victim');
  await mkdir(victim);
  await link(w.outside, path.join(victim, 'a'));
  // The first name got its copy before the second failed: link it again.
  await rm(path.join(w.work, 'a'));
  await link(w.outside, path.join(w.work, 'a'));
  const again = await searchLinks([], [w.work]);
  await rename(w.work, `${w.work}.old`);
  await symlink(victim, w.work);
  const swapped = await t.throwsAsync(copyLinkedFiles(again.linkedIn, 'run2'));
  t.regex(swapped!.message, /is no longer the directory that was searched/);
  t.is((await lstat(path.join(victim, 'a'))).nlink, 3);
});
