import path from 'node:path';
import type { Policy } from '../policy/types.js';
import { pathUnder } from '../policy/paths.js';
import { PROTECTED_PARENTS, protectedPaths } from './protected.js';

/**
 * One step of the filesystem view, in the order it is mounted. `optional`
 * steps are dropped at run time when their path does not exist.
 */
export type MountStep =
  | { kind: 'writable'; path: string; why: string; optional: boolean }
  | { kind: 'read-only'; path: string; why: string; optional: boolean }
  /** Directories become an empty read-only tmpfs, files and sockets /dev/null. */
  | { kind: 'hide'; path: string; why: string; optional: boolean }
  | { kind: 'file'; source: string; target: string; why: string }
  | { kind: 'proc'; why: string }
  | { kind: 'tmpfs'; path: string; why: string; optional: boolean }
  /** A minimal /dev, built in `staging` (state directory) and moved over /dev. */
  | { kind: 'dev'; staging: string; why: string };

/** A directory searched for sockets when the run starts. */
export interface SocketRoot {
  path: string;
  depth: number;
  /**
   * Sockets under /run belong to daemons running as root (systemd, dbus,
   * containerd): a root process without capabilities may still command
   * them, so failing to hide one fails the run. Elsewhere sockets come and
   * go (agents in /tmp), and hiding them is best effort.
   */
  required: boolean;
}

/** Where sockets are looked for at run time, and which stay reachable. */
export interface SocketPlan {
  /** False when the policy allows every Unix socket: nothing is hidden. */
  hide: boolean;
  roots: SocketRoot[];
  /** Also every socket bound in the runner's network namespace (/proc/net/unix). */
  bound: boolean;
  allowed: string[];
}

/** The filesystem view of a run (plain data). */
export interface MountPlan {
  /** Every mount already there is made read-only first (listed at run time). */
  readOnlyRoot: true;
  steps: MountStep[];
  sockets: SocketPlan;
}

/** Proc files a process without capabilities could still use as root: masked or read-only. */
const PROC_READ_ONLY = [
  '/proc/sys',
  '/proc/sysrq-trigger',
  '/proc/irq',
  '/proc/bus',
];
const PROC_MASKED = [
  '/proc/kcore',
  '/proc/keys',
  '/proc/timer_list',
  '/proc/sched_debug',
];

const depth = (p: string) => (p === '/' ? 0 : p.split('/').length);

/**
 * Plans the filesystem view (pure). Order matters: writable binds come
 * parents first, then read-only protections inside them, then the hidden
 * paths, so a hidden path inside a writable one stays hidden.
 */
export function planMounts(options: {
  policy: Policy;
  cwd: string;
  home: string;
  stateDirs: string[];
  resolvConf: { source: string; target: string };
  devStaging: string;
}): MountPlan {
  const { policy, cwd, home, stateDirs, resolvConf, devStaging } = options;
  const fs = policy.filesystem;
  const writable = [...fs.allowWrite]
    .sort((a, b) => depth(a.path) - depth(b.path))
    .map((rule): MountStep => ({
      kind: 'writable',
      path: rule.path,
      why: `allow_write ${rule.raw} (${rule.source.origin})`,
      optional: true,
    }));
  // A writable directory that holds protected paths is bound onto itself:
  // a mount point cannot be renamed (EBUSY), so the command cannot move
  // it away and put an unprotected copy in its place.
  const pinned: MountStep[] = PROTECTED_PARENTS.map((name) =>
    path.join(cwd, name),
  )
    .filter((p) => fs.allowWrite.some((rule) => pathUnder(p, rule.path)))
    .map((p) => ({
      kind: 'writable',
      path: p,
      why: 'holds protected paths: a mount point of its own cannot be renamed away',
      optional: true,
    }));
  const readOnly: MountStep[] = [
    ...fs.denyWrite.map((rule) => ({
      kind: 'read-only' as const,
      path: rule.path,
      why: `deny_write ${rule.raw} (${rule.source.origin})`,
      optional: true,
    })),
    ...protectedPaths({ cwd, allowGitConfig: fs.allowGitConfig.value }).map(
      (p) => ({
        kind: 'read-only' as const,
        path: p.path,
        why: p.why,
        optional: true,
      }),
    ),
  ];
  const hidden: MountStep[] = [
    ...fs.denyRead.map((rule) => ({
      kind: 'hide' as const,
      path: rule.path,
      why: `deny_read ${rule.raw} (${rule.source.origin})`,
      optional: true,
    })),
    ...stateDirs.map((dir) => ({
      kind: 'hide' as const,
      path: dir,
      why: "flow-sandbox's state",
      optional: true,
    })),
    // Hidden by path even when every socket is allowed (no scan then).
    ...policy.network.denyUnixSockets.map((rule) => ({
      kind: 'hide' as const,
      path: rule.path,
      why: `deny_unix_sockets ${rule.raw} (${rule.source.origin})`,
      optional: true,
    })),
  ];
  const proc: MountStep[] = [
    {
      kind: 'dev',
      staging: devStaging,
      why: 'device nodes: null, zero, random, tty and the like only',
    },
    { kind: 'proc', why: 'a fresh /proc for the new PID namespace' },
    ...PROC_READ_ONLY.map((p) => ({
      kind: 'read-only' as const,
      path: p,
      why: 'kernel settings stay read-only for root without capabilities',
      optional: true,
    })),
    ...PROC_MASKED.map((p) => ({
      kind: 'hide' as const,
      path: p,
      why: 'kernel internals',
      optional: true,
    })),
    {
      kind: 'tmpfs',
      path: '/dev/shm',
      why: 'shared memory of its own',
      optional: true,
    },
  ];
  return {
    readOnlyRoot: true,
    steps: [
      ...proc,
      ...writable,
      ...pinned,
      ...readOnly,
      {
        kind: 'file',
        source: resolvConf.source,
        target: resolvConf.target,
        why: "DNS goes to flow-sandbox's resolver only",
      },
      ...hidden,
    ],
    sockets: planSockets(policy, home),
  };
}

/**
 * Where a run looks for Unix sockets to hide, and which stay reachable
 * (pure). Both engines use it: neither can filter sockets by path, so
 * each masks the unlisted ones it finds when the run starts.
 */
export function planSockets(policy: Policy, home: string): SocketPlan {
  return {
    hide: !policy.network.allowAllUnixSockets.value,
    roots: [
      { path: '/run', depth: 6, required: true },
      { path: '/var/run', depth: 6, required: true },
      { path: '/tmp', depth: 2, required: false },
      { path: home, depth: 2, required: false },
      { path: path.join(home, '.docker'), depth: 3, required: false },
    ],
    bound: true,
    allowed: policy.network.unixSockets.map((rule) => rule.path),
  };
}
