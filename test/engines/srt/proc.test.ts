import test from 'ava';
import { execFileSync } from 'node:child_process';
import { shellArgs, srtLaunch } from '../../../src/engines/srt/launch.js';
import { maskedProcMounts } from '../../../src/engines/srt/proc.js';

// /proc/self/mountinfo in a Docker job container started with the runner's
// flags (trimmed): /proc and the masks Docker lays over it.
const DOCKER = [
  '1270 1269 0:81 / / rw,relatime master:1 - overlay overlay rw',
  '1271 1270 0:84 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  '1279 1271 0:84 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw',
  '1282 1271 0:84 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw',
  '1284 1271 0:85 /null /proc/kcore rw,nosuid - tmpfs tmpfs rw,size=65536k',
  '1287 1271 0:86 / /proc/scsi ro,relatime - tmpfs tmpfs ro',
].join('\n');

const HOST = [
  '22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
  '30 22 0:27 / /proc/sys/fs/binfmt_misc rw,relatime shared:13 - autofs systemd-1 rw',
  '31 1 0:28 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
  '40 1 0:30 / /srv/proc\\040data rw - ext4 /dev/vdb rw',
].join('\n');

test("Docker's masks over /proc are found", (t) => {
  t.deepEqual(maskedProcMounts(DOCKER), [
    '/proc/bus',
    '/proc/sys',
    '/proc/kcore',
    '/proc/scsi',
  ]);
});

// binfmt_misc sits on a directory that is empty for good: the kernel lets
// a user namespace mount proc despite it, so it is no mask.
test("a host's /proc is not masked", (t) => {
  t.deepEqual(maskedProcMounts(HOST), []);
});

test('mount points are decoded from their octal escapes', (t) => {
  const line = '50 22 0:40 / /proc/odd\\040name rw - tmpfs tmpfs rw';
  t.deepEqual(maskedProcMounts(line), ['/proc/odd name']);
});

test('on a host, bubblewrap starts from sh, in IPC and mount namespaces of its own without the netns handles', (t) => {
  const facts = {
    proc: 'host',
    unshare: '/usr/bin/unshare',
    umount: '/usr/bin/umount',
  };
  t.deepEqual(srtLaunch('/usr/bin/bwrap -- true', facts), {
    file: '/usr/bin/unshare',
    args: [
      '--mount',
      '--propagation',
      'private',
      '--ipc',
      '--',
      '/bin/sh',
      '-c',
      '"$1" -l /run/netns 2>/dev/null; shift; exec "$@"',
      'sh',
      '/usr/bin/umount',
      '/bin/sh',
      ...shellArgs('/usr/bin/bwrap -- true'),
    ],
  });
});

test('the launch line runs: the handles are detached, then bubblewrap execs', (t) => {
  // The same script with echo standing in for umount and the wrapped line.
  const { args } = srtLaunch('echo wrapped', {
    proc: 'host',
    unshare: '/usr/bin/unshare',
    umount: '/bin/echo',
  });
  const out = execFileSync('/bin/sh', args.slice(6)).toString();
  t.is(out, '-l /run/netns\nwrapped\n');
});

test('under masked /proc, bubblewrap starts over a private, fresh /proc', (t) => {
  const facts = {
    proc: 'private',
    unshare: '/usr/bin/unshare',
    mount: '/usr/bin/mount',
    umount: '/usr/bin/umount',
  };
  const { file, args } = srtLaunch('/usr/bin/bwrap -- true', facts);
  t.is(file, '/usr/bin/unshare');
  t.deepEqual(args.slice(0, 5), [
    '--mount',
    '--propagation',
    'private',
    '--ipc',
    '--',
  ]);
  const script = args[7]!;
  t.regex(
    script,
    /"\$1" -t proc -o nosuid,nodev,noexec proc \/proc \|\| exit 125/,
  );
  t.regex(
    script,
    /\|\| exit 125; shift; "\$1" -l \/run\/netns 2>\/dev\/null; shift; exec "\$@"$/,
  );
  // mount by its absolute path, then the unchanged shell line (exec bwrap).
  t.deepEqual(args.slice(8), [
    'sh',
    '/usr/bin/mount',
    '/usr/bin/umount',
    '/bin/sh',
    ...shellArgs('/usr/bin/bwrap -- true'),
  ]);
});
