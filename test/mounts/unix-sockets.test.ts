import test from 'ava';
import {
  mkdir,
  mkdtemp,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  boundSockets,
  parseProcNetUnix,
} from '../../src/mounts/unix-sockets.js';

test('bound socket paths from /proc/net/unix, abstract and unnamed ones left out', (t) => {
  const text = [
    'Num       RefCount Protocol Flags    Type St Inode Path',
    '0000000000000000: 00000002 00000000 00010000 0001 01 1939147 /var/run/docker.sock',
    '0000000000000000: 00000003 00000000 00000000 0001 03 1939150 /var/run/docker.sock',
    '0000000000000000: 00000002 00000000 00010000 0001 01 1939170 @fsbxt-abstract',
    '0000000000000000: 00000003 00000000 00000000 0001 03  1580',
    '0000000000000000: 00000002 00000000 00010000 0001 01 2000000 /var/tmp/service.sock',
  ].join('\n');
  t.deepEqual(parseProcNetUnix(text), [
    '/var/run/docker.sock',
    '/var/tmp/service.sock',
  ]);
});

// dockerd binds /var/run/docker.sock; the default policy's allowance
// resolves to /run/docker.sock. Compared unresolved, the kernel engine hid
// the allowed Docker socket on runners where dockerd shares the namespace.
test('bound sockets come back with links resolved, once each', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fsbx-sock-'));
  const server = net.createServer();
  t.teardown(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  await mkdir(path.join(dir, 'real'));
  await symlink('real', path.join(dir, 'link'));
  const socket = path.join(dir, 'real', 's.sock');
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const row = (p: string) =>
    `0000000000000000: 00000002 00000000 00010000 0001 01 1939147 ${p}`;
  const table = path.join(dir, 'unix');
  await writeFile(
    table,
    [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      row(path.join(dir, 'link', 's.sock')),
      row(socket),
      row(path.join(dir, 'real', 'gone.sock')),
    ].join('\n'),
  );
  t.deepEqual(await boundSockets(table), [await realpath(socket)]);
});
