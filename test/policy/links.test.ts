import test from 'ava';
import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { checkLinks, searchLinks } from '../../src/policy/links.js';
import { kernelMounts } from '../../src/mounts/mountinfo.js';

// A home with ~/.ssh/id_rsa, a checkout, and a /tmp-like directory.
async function world(t: { teardown(fn: () => Promise<void>): void }) {
  const base = await mkdtemp(path.join(os.tmpdir(), 'fsbx-links-'));
  t.teardown(() => rm(base, { recursive: true, force: true }));
  const home = path.join(base, 'home');
  const work = path.join(base, 'work');
  const tmp = path.join(base, 'tmp');
  for (const d of [path.join(home, '.ssh'), path.join(work, 'deep', 'er'), tmp])
    await mkdir(d, { recursive: true });
  const key = path.join(home, '.ssh', 'id_rsa');
  await writeFile(key, 'secret\n');
  await writeFile(path.join(home, '.ssh', 'config'), 'Host x\n');
  return { base, home, work, tmp, key };
}

// The runner left a hard link to the SSH key in the checkout (escape
// suite, case esc-ssh-prelinked-hardlink): SRT hid ~/.ssh but not the link.
test('a hard link to a denied file in the checkout or /tmp is denied too', async (t) => {
  const w = await world(t);
  await link(w.key, path.join(w.work, 'deep', 'er', 'k'));
  await link(w.key, path.join(w.tmp, 'k2'));
  await symlink(w.key, path.join(w.work, 'sym'));
  const policy = defaultPolicy({}, { home: w.home, cwd: w.work });
  policy.filesystem.allowWrite[1]!.path = w.tmp;

  const { policy: out, warnings } = await checkLinks(policy, w.work);
  const added = out.filesystem.denyRead.slice(1);
  t.deepEqual(added.map((r) => r.path).sort(), [
    path.join(w.tmp, 'k2'),
    path.join(w.work, 'deep', 'er', 'k'),
  ]);
  t.deepEqual(out.filesystem.denyWrite, added);
  t.is(added[0]!.source.origin, `hard link of ${w.key}`);
  t.deepEqual(warnings, []);
});

test('links the search cannot find are reported, not ignored', async (t) => {
  const w = await world(t);
  await link(w.key, path.join(w.base, 'elsewhere'));
  const policy = defaultPolicy({}, { home: w.home, cwd: w.work });
  policy.filesystem.allowWrite[1]!.path = w.tmp;
  const { policy: out, warnings } = await checkLinks(policy, w.work);
  t.is(out, policy);
  t.is(warnings.length, 1);
  t.regex(
    warnings[0]!,
    /id_rsa has 1 other hard link\(s\) outside .*stays readable/,
  );
});

test('files with one name, or with every name in the writable paths, are left alone', async (t) => {
  const w = await world(t);
  await writeFile(path.join(w.work, 'a'), 'a\n');
  await link(path.join(w.work, 'a'), path.join(w.work, 'deep', 'a2'));
  await link(path.join(w.work, 'a'), path.join(w.tmp, 'a3'));
  const found = await searchLinks([path.join(w.home, '.ssh')], [w.work, w.tmp]);
  t.deepEqual(found, {
    aliases: [],
    unaccounted: [],
    linkedIn: [],
    truncated: false,
    unread: [],
  });
});

// Case esc-write-prelinked-hardlink: a file of $HOME (or pnpm's store)
// linked into the checkout would change outside through its link.
test('files linked in from outside the writable paths are found, with all their names there', async (t) => {
  const w = await world(t);
  const outside = path.join(w.home, 'notes');
  await writeFile(outside, 'n\n');
  await link(outside, path.join(w.work, 'n1'));
  await link(outside, path.join(w.work, 'deep', 'er', 'n2'));
  const policy = defaultPolicy({}, { home: w.home, cwd: w.work });
  policy.filesystem.allowWrite[1]!.path = w.tmp;
  const { policy: out, linkedIn, warnings } = await checkLinks(policy, w.work);
  t.is(out, policy);
  t.deepEqual(warnings, []);
  t.is(linkedIn.length, 1);
  t.deepEqual(linkedIn[0]!.paths.sort(), [
    path.join(w.work, 'deep', 'er', 'n2'),
    path.join(w.work, 'n1'),
  ]);
  t.is(linkedIn[0]!.links, 3);
});

test('a root inside another root is searched once', async (t) => {
  const w = await world(t);
  const outside = path.join(w.home, 'notes');
  await writeFile(outside, 'n\n');
  await link(outside, path.join(w.work, 'deep', 'n1'));
  const found = await searchLinks(
    [],
    [path.join(w.work, 'deep'), w.work, `${w.work}/`],
  );
  t.deepEqual(found.linkedIn[0]!.paths, [path.join(w.work, 'deep', 'n1')]);
});

test('the search is bounded and says so when it stops early', async (t) => {
  const w = await world(t);
  await link(w.key, path.join(w.work, 'deep', 'er', 'k'));
  const found = await searchLinks([path.join(w.home, '.ssh')], [w.work], 3);
  t.true(found.truncated);
  t.deepEqual(found.unaccounted, [{ file: w.key, links: 1 }]);
  const policy = defaultPolicy({}, { home: w.home, cwd: w.work });
  policy.filesystem.allowWrite[1]!.path = w.tmp;
  const { incomplete } = await checkLinks(policy, w.work, 3);
  t.regex(incomplete!, /stopped after 3 entries/);
});

// Found by an attack: /tmp, walked first, used up the budget before the
// checkout was searched.
test('the checkout is searched before the other writable paths', async (t) => {
  const w = await world(t);
  const outside = path.join(w.home, 'notes');
  await writeFile(outside, 'n\n');
  await link(outside, path.join(w.work, 'n1'));
  for (let i = 0; i < 20; i++) await writeFile(path.join(w.tmp, `f${i}`), '');
  const policy = defaultPolicy({}, { home: w.home, cwd: w.work });
  policy.filesystem.allowWrite[1]!.path = w.tmp;
  const { linkedIn, incomplete } = await checkLinks(policy, w.work, 12);
  t.deepEqual(
    linkedIn.map((f) => f.paths),
    [[path.join(w.work, 'n1')]],
  );
  t.regex(incomplete!, /stopped after 12 entries/);
});

// Found by a second attack: a writable path that is a symlink was not
// searched (the engines mount where it leads), and what the walk could not
// read was passed over.
test('a symlinked writable path is searched where it leads; what cannot be read makes the search incomplete', async (t) => {
  const w = await world(t);
  const outside = path.join(w.home, 'notes');
  await writeFile(outside, 'n\n');
  const real = path.join(w.base, 'real');
  await mkdir(real);
  await link(outside, path.join(real, 'n'));
  await symlink(real, path.join(w.base, 'alias'));
  const found = await searchLinks([], [path.join(w.base, 'alias')]);
  t.deepEqual(
    found.linkedIn.map((f) => f.paths),
    [[path.join(real, 'n')]],
  );

  // Deeper than PATH_MAX: made (and removed, first) by the shell, step by step.
  const name = 'd'.repeat(240);
  t.teardown(() => {
    execFileSync('rm', ['-rf', path.join(w.work, name)]);
  });
  execFileSync(process.execPath, [
    '-e',
    `const fs = require('node:fs'); process.chdir(process.argv[1]);
     for (let i = 0; i < 20; i++) { fs.mkdirSync(process.argv[2]); process.chdir(process.argv[2]); }`,
    w.work,
    name,
  ]);
  const policy = defaultPolicy({}, { home: w.home, cwd: w.work });
  policy.filesystem.allowWrite[1]!.path = w.tmp;
  const { incomplete } = await checkLinks(policy, w.work);
  t.regex(incomplete ?? '', /could not read .*ENAMETOOLONG/);
});

test('kernel filesystems are not walked: no links there, and /proc would be read whole', async (t) => {
  const proc = await searchLinks([], ['/proc', '/sys/kernel']);
  t.deepEqual(proc.unread, []);
  t.false(proc.truncated);
  // With a limit /proc alone would use up, the search is still complete.
  const small = await searchLinks(['/proc/self'], ['/proc'], 10);
  t.false(small.truncated);
});

test('kernel mount points come from mountinfo, octal escapes decoded', (t) => {
  const mountinfo = [
    '22 1 0:21 / /proc rw,nosuid - proc proc rw',
    '23 1 0:22 / /sys rw - sysfs sysfs rw',
    '24 1 8:1 / / rw - ext4 /dev/sda1 rw',
    '25 22 0:23 / /odd\\040name rw - cgroup2 cgroup2 rw',
    '26 1 0:24 / /tmp rw - tmpfs tmpfs rw',
  ].join('\n');
  t.deepEqual([...kernelMounts(mountinfo)], ['/proc', '/sys', '/odd name']);
});
