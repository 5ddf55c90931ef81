import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { removeCreated } from '../../src/mounts/created.js';

async function scratch(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-created-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('what the command created at a protected path is removed; absent paths are skipped', async (t) => {
  const dir = await scratch(t);
  await writeFile(path.join(dir, '.mcp.json'), '{}');
  await mkdir(path.join(dir, '.vscode'));
  await writeFile(path.join(dir, '.vscode', 'settings.json'), '{}');
  const paths = ['.mcp.json', '.vscode', '.bashrc'].map((p) =>
    path.join(dir, p),
  );
  const result = await removeCreated(paths);
  t.deepEqual(result.removed, paths.slice(0, 2));
  t.deepEqual(result.redirected, []);
  t.false(existsSync(paths[0]!));
  t.false(existsSync(paths[1]!));
});

test('a link at the path is removed as a link; what it points to stays', async (t) => {
  const dir = await scratch(t);
  const target = path.join(dir, 'elsewhere.txt');
  await writeFile(target, 'keep');
  await symlink(target, path.join(dir, '.mcp.json'));
  await removeCreated([path.join(dir, '.mcp.json')]);
  t.true(existsSync(target));
  t.false(existsSync(path.join(dir, '.mcp.json')));
});

test('through a directory replaced with a link, nothing is touched', async (t) => {
  const dir = await scratch(t);
  const outside = path.join(dir, 'outside');
  await mkdir(path.join(outside, 'commands'), { recursive: true });
  await mkdir(path.join(dir, 'work'));
  // The command made .claude a link: .claude/commands now leads outside.
  await symlink(outside, path.join(dir, 'work', '.claude'));
  const protectedPath = path.join(dir, 'work', '.claude', 'commands');
  const result = await removeCreated([protectedPath]);
  t.deepEqual(result, { removed: [], redirected: [protectedPath] });
  t.true(existsSync(path.join(outside, 'commands')));
});
