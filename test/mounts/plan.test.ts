import test from 'ava';
import {
  renderFstab,
  stepEntries,
  type ResolvedStep,
} from '../../src/mounts/fstab.js';
import { INIT_SCRIPT, launchArgv } from '../../src/mounts/launch.js';
import { planMounts } from '../../src/mounts/plan.js';
import { defaultPolicy } from '../../src/policy/defaults.js';

const base = { home: '/home/job', cwd: '/builds/group/project' };
const plan = planMounts({
  policy: defaultPolicy({ CI_SERVER_HOST: 'gitlab.test' }, base),
  cwd: base.cwd,
  home: base.home,
  stateDirs: ['/run/flow-sandbox'],
  resolvConf: {
    source: '/run/flow-sandbox/r1/resolv.conf',
    target: '/etc/resolv.conf',
  },
  devStaging: '/run/flow-sandbox/r1/dev',
});
const where = (kind: string, p: string) =>
  plan.steps.findIndex((s) => s.kind === kind && 'path' in s && s.path === p);

test('the working directory and /tmp are writable, parents first', (t) => {
  const writable = plan.steps
    .filter((s) => s.kind === 'writable')
    .map((s) => (s as { path: string }).path);
  t.deepEqual(writable, [
    '/tmp',
    '/builds/group/project',
    // Pinned: bound onto themselves so they cannot be renamed away.
    '/builds/group/project/.git',
    '/builds/group/project/.claude',
  ]);
});

test('~/.ssh and the state directory are hidden, after every writable bind', (t) => {
  const ssh = where('hide', '/home/job/.ssh');
  const state = where('hide', '/run/flow-sandbox');
  t.true(ssh > where('writable', '/builds/group/project'));
  t.true(state > ssh);
  t.true(
    plan.steps.some(
      (s) => s.kind === 'file' && s.target === '/etc/resolv.conf',
    ),
  );
});

test('git hooks, submodules and git config are read-only (readable, never writable)', (t) => {
  t.true(where('read-only', '/builds/group/project/.git/hooks') >= 0);
  t.true(where('read-only', '/builds/group/project/.git/modules') >= 0);
  t.true(
    where('read-only', '/builds/group/project/.git/config') >= 0,
    'git config readable by default, but not writable',
  );
  const strict = planMounts({
    policy: {
      ...defaultPolicy({}, base),
      filesystem: {
        ...defaultPolicy({}, base).filesystem,
        allowGitConfig: {
          value: false,
          source: { kind: 'config', origin: 't' },
        },
      },
    },
    cwd: base.cwd,
    home: base.home,
    stateDirs: [],
    resolvConf: { source: '/s', target: '/etc/resolv.conf' },
    devStaging: '/s/dev',
  });
  t.true(
    strict.steps.some(
      (s) =>
        s.kind === 'read-only' &&
        s.path === '/builds/group/project/.git/config',
    ),
  );
});

test('a minimal /dev, then a fresh /proc with kernel settings read-only', (t) => {
  t.deepEqual(plan.steps[0], {
    kind: 'dev',
    staging: '/run/flow-sandbox/r1/dev',
    why: 'device nodes: null, zero, random, tty and the like only',
  });
  t.is(plan.steps[1]!.kind, 'proc');
  t.true(where('read-only', '/proc/sys') > 0);
  t.true(where('read-only', '/proc/sysrq-trigger') > 0);
  t.true(where('hide', '/proc/kcore') > 0);
});

test('the Docker socket stays reachable, other sockets are looked for', (t) => {
  t.true(plan.sockets.hide);
  t.deepEqual(plan.sockets.allowed, ['/var/run/docker.sock']);
  t.true(
    plan.sockets.roots.some((r) => r.path === '/run' && r.required) &&
      plan.sockets.roots.some((r) => r.path === '/tmp' && !r.required),
  );
});

test('fstab text: binds, remounts, tmpfs and /dev/null masks, escaped paths', (t) => {
  t.deepEqual(
    renderFstab(
      stepEntries({
        kind: 'dev',
        staging: '/s/dev',
        why: '',
        nodes: ['null', 'tty'],
        pts: true,
      }),
    ).split('\n'),
    [
      '/dev/null /s/dev/null none bind 0 0',
      '/dev/tty /s/dev/tty none bind 0 0',
      '/dev/pts /s/dev/pts none rbind 0 0',
      '/s/dev /dev none rbind 0 0',
      '',
    ],
  );
  const steps: ResolvedStep[] = [
    { kind: 'proc', why: '' },
    { kind: 'writable', path: '/builds/my project', why: '', optional: true },
    {
      kind: 'read-only',
      path: '/builds/my project/.git/hooks',
      why: '',
      optional: true,
    },
    {
      kind: 'file',
      source: '/run/fs/r1/resolv.conf',
      target: '/etc/resolv.conf',
      why: '',
    },
    {
      kind: 'hide',
      path: '/root/.ssh',
      why: '',
      optional: true,
      isDirectory: true,
    },
    {
      kind: 'hide',
      path: '/run/other.sock',
      why: '',
      optional: true,
      isDirectory: false,
    },
  ];
  t.is(
    renderFstab(steps.flatMap(stepEntries)),
    [
      'fsbxproc /proc proc nosuid,nodev,noexec 0 0',
      '/builds/my\\040project /builds/my\\040project none rbind 0 0',
      'none /builds/my\\040project none remount,bind,rw 0 0',
      '/builds/my\\040project/.git/hooks /builds/my\\040project/.git/hooks none bind,ro 0 0',
      '/run/fs/r1/resolv.conf /etc/resolv.conf none bind,ro 0 0',
      'fsbxhide /root/.ssh tmpfs ro,nosuid,nodev,noexec,size=4k,mode=0700 0 0',
      '/dev/null /run/other.sock none bind,ro 0 0',
      '',
    ].join('\n'),
  );
  t.is(
    renderFstab([
      { source: '#x', target: '/a\tb\\c\nd', type: 'none', options: 'bind' },
    ]),
    '\\043x /a\\011b\\134c\\012d none bind 0 0\n',
  );
});

test('the launch chain joins the netns, unshares mount, IPC and PID, drops every capability', (t) => {
  const argv = launchArgv({
    tools: {
      setpriv: '/usr/bin/setpriv',
      nsenter: '/usr/bin/nsenter',
      unshare: '/usr/bin/unshare',
      mount: '/usr/bin/mount',
      sh: '/bin/sh',
      env: '/usr/bin/env',
    },
    netnsPath: '/run/netns/fsbxa1b2c3d4',
    fstabDir: '/run/flow-sandbox/a1b2c3d4/fstab.d',
    cwd: '/builds/p',
    argv: ['sh', '-c', 'echo "$HOME"; rm -rf /'],
  });
  t.deepEqual(argv.slice(0, 18), [
    '/usr/bin/setpriv',
    '--pdeathsig',
    'KILL',
    '--',
    '/usr/bin/nsenter',
    '--net=/run/netns/fsbxa1b2c3d4',
    '--',
    '/usr/bin/unshare',
    '--mount',
    '--propagation',
    'private',
    '--ipc',
    '--pid',
    '--fork',
    '--kill-child',
    '--',
    '/bin/sh',
    '-c',
  ]);
  t.is(argv[18], INIT_SCRIPT);
  t.deepEqual(
    argv.slice(-3),
    ['sh', '-c', 'echo "$HOME"; rm -rf /'],
    'the command is passed as arguments, never as script text',
  );
  t.true(
    INIT_SCRIPT.includes('--no-new-privs --inh-caps=-all --bounding-set=-all'),
  );
});
