import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { CommandRunner, RunOptions } from '../../src/exec/runner.js';
import {
  PRIVATE_PROC_SCRIPT,
  privateProcArgv,
  sysctlMethod,
  sysctlWriter,
} from '../../src/netns/sysctl.js';

const tools = {
  unshare: '/usr/bin/unshare',
  mount: '/bin/mount',
  sh: '/bin/sh',
};

function recorder(exitCode = 0, stderr = '') {
  const calls: Array<{ argv: readonly string[]; options?: RunOptions }> = [];
  const exec: CommandRunner = {
    run: async (argv, options) => {
      calls.push({ argv, options });
      return { exitCode, stdout: '', stderr };
    },
  };
  return { calls, exec };
}

test('a writable /proc/sys is written directly', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'fsbx-sysctl-'));
  try {
    await mkdir(path.join(root, 'net/ipv4'), { recursive: true });
    await writeFile(path.join(root, 'net/ipv4/ip_forward'), '0\n');
    t.is(await sysctlMethod(root), 'direct');
    const { calls, exec } = recorder();
    await sysctlWriter({ method: 'direct', exec, procSys: root })(
      'net/ipv4/ip_forward',
      '1',
    );
    t.is(
      execFileSync('cat', [path.join(root, 'net/ipv4/ip_forward')], {
        encoding: 'utf8',
      }),
      '1',
    );
    t.deepEqual(calls, [], 'no helper process');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a missing /proc/sys key is not mistaken for a read-only mount', async (t) => {
  t.is(await sysctlMethod('/nonexistent-fsbx-proc-sys'), 'direct');
});

test('private-proc writes run one helper in a private mount namespace', async (t) => {
  const { calls, exec } = recorder();
  const write = sysctlWriter({ method: 'private-proc', exec, tools });
  await write('net/ipv4/ip_forward', '1');
  t.is(calls.length, 1);
  const argv = calls[0]!.argv;
  t.deepEqual(argv, privateProcArgv(tools, 'net/ipv4/ip_forward', '1'));
  t.deepEqual(argv.slice(0, 5), [
    '/usr/bin/unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
  ]);
  // Key and value travel as arguments, never inside the script text.
  t.deepEqual(argv.slice(-3), ['/bin/mount', 'net/ipv4/ip_forward', '1']);
  t.false(PRIVATE_PROC_SCRIPT.includes('ip_forward'));
  t.regex(PRIVATE_PROC_SCRIPT, /-t proc -o nosuid,nodev,noexec proc \/proc/);
});

test('private-proc: a missing key throws ENOENT, other failures say why', async (t) => {
  const missing = recorder(44);
  const gone = sysctlWriter({
    method: 'private-proc',
    exec: missing.exec,
    tools,
  });
  const error = await t.throwsAsync(gone('net/ipv6/conf/eth9/accept_ra', '1'));
  t.is((error as NodeJS.ErrnoException).code, 'ENOENT');

  const refused = recorder(125, 'mount: /proc: permission denied.');
  const write = sysctlWriter({
    method: 'private-proc',
    exec: refused.exec,
    tools,
  });
  await t.throwsAsync(write('net/ipv4/ip_forward', '1'), {
    message: /status 125\): mount: \/proc: permission denied/,
  });
});

test('private-proc without its tools is refused at once', (t) => {
  const { exec } = recorder();
  t.throws(() => sysctlWriter({ method: 'private-proc', exec }), {
    message: /need unshare, mount and sh/,
  });
});
