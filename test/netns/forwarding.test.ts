import test from 'ava';
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  enableForwarding,
  restoreForwarding,
} from '../../src/netns/forwarding.js';
import { sysctlWriter } from '../../src/netns/sysctl.js';
import type { CommandRunner } from '../../src/exec/runner.js';

const noExec: CommandRunner = {
  run: () => Promise.reject(new Error('a direct write starts no process')),
};

async function fakeProc() {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fsbx-proc-'));
  const set = async (key: string, value: string) => {
    await mkdir(path.dirname(path.join(root, key)), { recursive: true });
    await writeFile(path.join(root, key), value);
  };
  await set('net/ipv4/ip_forward', '0\n');
  await set('net/ipv6/conf/all/forwarding', '0\n');
  await set('net/ipv6/conf/eth0/accept_ra', '1\n');
  await set('net/ipv6/conf/eth1/accept_ra', '0\n');
  await set('net/ipv6/conf/fsbxabch/accept_ra', '1\n');
  const get = async (key: string) =>
    (await readFile(path.join(root, key), 'utf8')).trim();
  const poolDir = path.join(root, 'pool');
  await mkdir(poolDir);
  const write = sysctlWriter({ method: 'direct', exec: noExec, procSys: root });
  return { root, get, poolDir, write };
}

test('forwarding goes on, and the last run puts back what was there', async (t) => {
  const { root, get, poolDir, write } = await fakeProc();
  try {
    await writeFile(path.join(poolDir, '1.lease'), '{}');
    await writeFile(path.join(poolDir, '2.lease'), '{}');
    await enableForwarding({ poolDir, ipv6: true, procSys: root, write });
    await enableForwarding({ poolDir, ipv6: true, procSys: root, write });
    t.is(await get('net/ipv4/ip_forward'), '1');
    t.is(await get('net/ipv6/conf/all/forwarding'), '1');
    t.is(await get('net/ipv6/conf/eth0/accept_ra'), '2');
    t.is(await get('net/ipv6/conf/eth1/accept_ra'), '0');
    t.is(await get('net/ipv6/conf/fsbxabch/accept_ra'), '1');

    await rm(path.join(poolDir, '1.lease'));
    await restoreForwarding({ poolDir, ipv6: true, procSys: root, write });
    t.is(
      await get('net/ipv4/ip_forward'),
      '1',
      'another run still holds a lease',
    );

    await rm(path.join(poolDir, '2.lease'));
    await restoreForwarding({ poolDir, ipv6: true, procSys: root, write });
    t.is(await get('net/ipv4/ip_forward'), '0');
    t.is(await get('net/ipv6/conf/all/forwarding'), '0');
    t.is(await get('net/ipv6/conf/eth0/accept_ra'), '1');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('forwarding that was on stays on', async (t) => {
  const { root, get, poolDir, write } = await fakeProc();
  try {
    await writeFile(path.join(root, 'net/ipv4/ip_forward'), '1\n');
    await enableForwarding({ poolDir, ipv6: false, procSys: root, write });
    await restoreForwarding({ poolDir, ipv6: false, procSys: root, write });
    t.is(await get('net/ipv4/ip_forward'), '1');
    t.is(
      await get('net/ipv6/conf/all/forwarding'),
      '0',
      'IPv6 untouched without IPv6',
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('what is about to change is recorded before it changes', async (t) => {
  const { root, get, poolDir, write } = await fakeProc();
  try {
    // A setting that reads but cannot be written, even by root: the run
    // fails half way, as one killed there would stop.
    await rm(path.join(root, 'net/ipv6/conf/all/forwarding'));
    await symlink(
      '/proc/version',
      path.join(root, 'net/ipv6/conf/all/forwarding'),
    );
    await t.throwsAsync(
      enableForwarding({ poolDir, ipv6: true, procSys: root, write }),
    );
    const state = JSON.parse(
      await readFile(path.join(poolDir, 'forwarding.json'), 'utf8'),
    ) as { changed: Record<string, string> };
    t.is(state.changed['net/ipv4/ip_forward'], '0');
    t.is(state.changed['net/ipv6/conf/eth0/accept_ra'], '1');

    await rm(path.join(root, 'net/ipv6/conf/all/forwarding'));
    await writeFile(path.join(root, 'net/ipv6/conf/all/forwarding'), '1');
    await writeFile(path.join(root, 'net/ipv4/ip_forward'), '1');
    await writeFile(path.join(poolDir, 'forwarding.json.tmp'), '{"chan');
    await restoreForwarding({ poolDir, procSys: root, write });
    t.is(await get('net/ipv4/ip_forward'), '0');
    t.is(await get('net/ipv6/conf/eth0/accept_ra'), '1');
    t.deepEqual(await readdir(poolDir), [], 'no record, no half-written one');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
