import type { CommandRunner } from '../../src/exec/runner.js';
import type { UndoStack } from '../../src/exec/undo.js';
import { SAFE_PATH } from './files.js';
import {
  HOSTS,
  METADATA4,
  PREFIX4,
  PREFIX6,
  RUNNER,
  type HostSpec,
} from './topology.js';

/** Names of one test network's kernel objects, all starting with fsbxt<id>. */
export interface NetNames {
  id: string;
  switchNs: string;
  bridge: string;
  /** Namespace name for a host key (run, dns, gl, out, dock). */
  ns(key: string): string;
  /** The switch-side veth of a host (max 15 characters). */
  port(key: string): string;
}

/** Every name derives from the id, so a leftover is easy to attribute. */
export function netNames(id: string): NetNames {
  return {
    id,
    switchNs: `fsbxt${id}-sw`,
    bridge: `fsbxt${id}br`,
    ns: (key) => `fsbxt${id}-${key}`,
    port: (key) => `fsbxt${id}${key}`,
  };
}

/** One step: the command, and the command that reverses it (if any). */
export interface NetStep {
  argv: string[];
  undo?: string[];
}

function hostSteps(names: NetNames, host: HostSpec): NetStep[] {
  const ns = names.ns(host.key);
  const sw = names.switchNs;
  const port = names.port(host.key);
  const inNs = (...args: string[]) => ['ip', '-n', ns, ...args];
  return [
    { argv: ['ip', 'netns', 'add', ns], undo: ['ip', 'netns', 'del', ns] },
    {
      argv: [
        'ip',
        '-n',
        sw,
        'link',
        'add',
        port,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        ns,
      ],
    },
    {
      argv: ['ip', '-n', sw, 'link', 'set', port, 'master', names.bridge, 'up'],
    },
    { argv: inNs('link', 'set', 'lo', 'up') },
    ...host.ipv4.map((a) => ({
      argv: inNs('addr', 'add', `${a}/${PREFIX4}`, 'dev', 'eth0'),
    })),
    // nodad: the address is usable at once, and no other node shares it.
    ...host.ipv6.map((a) => ({
      argv: inNs(
        '-6',
        'addr',
        'add',
        `${a}/${PREFIX6}`,
        'dev',
        'eth0',
        'nodad',
      ),
    })),
    ...(host.extra4 ?? []).map((a) => ({
      argv: inNs('addr', 'add', `${a}/32`, 'dev', 'eth0'),
    })),
    // No duplicate address detection: a link-local address that turns from
    // "tentative" to usable mid-test would show up as a state change.
    {
      argv: [
        'nsenter',
        `--net=/run/netns/${ns}`,
        '--',
        ...writableSysctl(['-qw', 'net.ipv6.conf.eth0.accept_dad=0']),
      ],
    },
    { argv: inNs('link', 'set', 'eth0', 'up') },
  ];
}

/**
 * The whole network as commands: a switch namespace holding the bridge,
 * and one namespace per host joined to it by a veth pair created directly
 * between the two namespaces, so nothing touches the host's own namespace.
 * The runner gets only the on-link subnet routes and a /32 route to the
 * metadata-like address: no default route exists anywhere.
 */
export function networkPlan(names: NetNames): NetStep[] {
  const sw = names.switchNs;
  return [
    { argv: ['ip', 'netns', 'add', sw], undo: ['ip', 'netns', 'del', sw] },
    { argv: ['ip', '-n', sw, 'link', 'add', names.bridge, 'type', 'bridge'] },
    { argv: ['ip', '-n', sw, 'link', 'set', names.bridge, 'up'] },
    ...[RUNNER, ...HOSTS].flatMap((host) => hostSteps(names, host)),
    {
      argv: [
        'ip',
        '-n',
        names.ns(RUNNER.key),
        'route',
        'add',
        `${METADATA4}/32`,
        'dev',
        'eth0',
      ],
    },
  ];
}

/**
 * A sysctl command that also works where /proc/sys is read-only (Docker
 * mounts it so in job containers): it runs in a private mount namespace
 * over a fresh procfs. The values are those of the network namespace the
 * command runs in; the caller's /proc is left as it is.
 */
export function writableSysctl(args: readonly string[]): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    `PATH=${SAFE_PATH}; mount -t proc -o nosuid,nodev,noexec proc /proc && exec sysctl "$@"`,
    'sh',
    ...args,
  ];
}

/** Runs the plan, registering each undo as its step succeeds. */
export async function applyNetwork(
  exec: CommandRunner,
  undo: UndoStack,
  steps: readonly NetStep[],
): Promise<void> {
  for (const step of steps) {
    await exec.run(step.argv);
    const reverse = step.undo;
    if (reverse) {
      undo.push(reverse.join(' '), async () => {
        await exec.run(reverse, { allowFailure: true });
      });
    }
  }
}

/** Every namespace name of a test network, for teardown by id alone. */
export function allNamespaces(names: NetNames): string[] {
  return [names.switchNs, ...[RUNNER, ...HOSTS].map((h) => names.ns(h.key))];
}
