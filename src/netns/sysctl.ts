import { access, constants, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandRunner } from '../exec/runner.js';

/**
 * How the runner's sysctls are written: straight into /proc/sys, or, where
 * /proc/sys is mounted read-only (Docker does that in every job container
 * unless started with systempaths=unconfined), through a fresh procfs
 * mounted in a private mount namespace that lives for one write.
 */
export type SysctlMethod = 'direct' | 'private-proc';

/** Absolute paths of the programs the private-proc write runs. */
export interface SysctlTools {
  unshare: string;
  mount: string;
  sh: string;
}

/** The key looked at to tell a read-only /proc/sys: the one every run writes. */
const PROBE_KEY = 'net/ipv4/ip_forward';

/** Exit status of the write script when the key does not exist. */
const MISSING = 44;

/**
 * Mounts a fresh procfs over /proc (in the private namespace only; the
 * container's own /proc and its masks stay as they are) and writes one
 * key. Arguments: mount's path, the key under /proc/sys, the value. The
 * key's sysctl belongs to the writer's network namespace, the runner's.
 */
export const PRIVATE_PROC_SCRIPT = [
  '"$1" -t proc -o nosuid,nodev,noexec proc /proc || exit 125',
  `[ -e "/proc/sys/$2" ] || exit ${MISSING}`,
  'printf "%s\\n" "$3" > "/proc/sys/$2"',
].join('; ');

/**
 * Whether /proc/sys can be written here. access(2) answers EROFS for a
 * read-only mount without writing anything; any other answer (a missing
 * key, no permission) is left to the direct write to report.
 */
export async function sysctlMethod(
  procSys = '/proc/sys',
): Promise<SysctlMethod> {
  try {
    await access(path.join(procSys, PROBE_KEY), constants.W_OK);
    return 'direct';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS'
      ? 'private-proc'
      : 'direct';
  }
}

/** The argv that writes one key through a private procfs (plan and apply). */
export function privateProcArgv(
  tools: SysctlTools,
  key: string,
  value: string,
): string[] {
  return [
    tools.unshare,
    '--mount',
    '--propagation',
    'private',
    '--',
    tools.sh,
    '-c',
    PRIVATE_PROC_SCRIPT,
    'sh',
    tools.mount,
    key,
    value,
  ];
}

/** Writes one sysctl (a path relative to /proc/sys). A missing key throws ENOENT. */
export type SysctlWriter = (key: string, value: string) => Promise<void>;

/**
 * The writer for a method; `tools` is needed for private-proc only, and
 * `procSys` (direct only) is swapped in tests.
 */
export function sysctlWriter(options: {
  method: SysctlMethod;
  exec: CommandRunner;
  tools?: SysctlTools;
  procSys?: string;
}): SysctlWriter {
  const { method, exec, tools } = options;
  if (method === 'direct') {
    const root = options.procSys ?? '/proc/sys';
    return (key, value) => writeFile(path.join(root, key), value);
  }
  if (!tools)
    throw new Error('private-proc sysctl writes need unshare, mount and sh');
  return async (key, value) => {
    const result = await exec.run(privateProcArgv(tools, key, value), {
      allowFailure: true,
    });
    if (result.exitCode === 0) return;
    const error: NodeJS.ErrnoException = new Error(
      result.exitCode === MISSING
        ? `/proc/sys/${key} does not exist`
        : `writing ${value} to /proc/sys/${key} through a private procfs failed (status ${result.exitCode}): ${result.stderr.trim() || 'no message'}`,
    );
    if (result.exitCode === MISSING) error.code = 'ENOENT';
    throw error;
  };
}
