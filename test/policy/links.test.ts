import test from 'ava';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { denyLinkAliases, findDeniedLinks } from '../../src/policy/links.js';

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

  const { policy: out, warnings } = await denyLinkAliases(policy, w.work);
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
  const { policy: out, warnings } = await denyLinkAliases(policy, w.work);
  t.is(out, policy);
  t.is(warnings.length, 1);
  t.regex(
    warnings[0]!,
    /id_rsa has 1 other hard link\(s\) outside .*stays readable/,
  );
});

test('without multiply-linked denied files nothing is searched', async (t) => {
  const w = await world(t);
  const found = await findDeniedLinks([path.join(w.home, '.ssh')], [w.work], 3);
  t.deepEqual(found, { aliases: [], unaccounted: [], truncated: false });
});

test('the search is bounded and says so when it stops early', async (t) => {
  const w = await world(t);
  await link(w.key, path.join(w.work, 'deep', 'er', 'k'));
  const found = await findDeniedLinks([path.join(w.home, '.ssh')], [w.work], 5);
  t.true(found.truncated);
  t.deepEqual(found.unaccounted, [{ file: w.key, links: 1 }]);
});
