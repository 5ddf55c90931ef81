import { readFile } from 'node:fs/promises';
import { which } from '../../exec/which.js';
import { SYSTEM_PATH } from '../kernel/probe.js';
import type { ProbeCheck } from '../types.js';
import { mountEntries } from '../../mounts/mountinfo.js';

/**
 * Why /proc needs care under SRT: bubblewrap mounts a fresh /proc for the
 * sandbox from inside a new user namespace, and the kernel allows that
 * only while some procfs in the mount namespace is fully visible (the
 * "mount too revealing" rule: no mount on it hides anything but an empty
 * directory). Docker masks /proc paths (kcore, keys, timer_list, ...) and
 * mounts /proc/sys read-only in every job container unless started with
 * systempaths=unconfined, so that mount fails there: "Can't mount proc on
 * /newroot/proc: Operation not permitted".
 *
 * With CAP_SYS_ADMIN in the host's user namespace (the runner's flags give
 * it) a fresh procfs may be mounted without that rule. flow-sandbox then
 * starts bubblewrap in a private mount namespace over a fresh, unmasked
 * /proc: bubblewrap's own mount succeeds, and the sandbox sees exactly
 * what it sees on a host, bubblewrap's /proc with its read-only covers
 * (sys, sysrq-trigger, irq, bus). The container's own /proc keeps its
 * masks; the unmasked one exists only in that mount namespace, below the
 * sandbox's /proc, where nothing in the sandbox can uncover it.
 */

/** Mounts that cover an empty directory hide nothing, so the kernel allows them. */
const HARMLESS = new Set(['/proc/sys/fs/binfmt_misc']);

const CAP_SYS_ADMIN = 21n;

/** Mount points strictly under /proc (octal escapes decoded), from mountinfo text. */
export function maskedProcMounts(mountinfo: string): string[] {
  const found = mountEntries(mountinfo)
    .map((m) => m.point)
    .filter((point) => point.startsWith('/proc/') && !HARMLESS.has(point));
  return [...new Set(found)];
}

/** True with CAP_SYS_ADMIN in the host's user namespace (identity uid map). */
function hostSysAdmin(status: string, uidMap: string): boolean {
  const eff = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  const caps = eff ? BigInt(`0x${eff}`) : 0n;
  const identity = /^\s*0\s+0\s+4294967295\s*$/.test(uidMap.trim());
  return ((caps >> CAP_SYS_ADMIN) & 1n) === 1n && identity;
}

/** The probe's verdict on /proc, and the fact the plan reads (`proc`). */
export async function probeProc(): Promise<{
  check: ProbeCheck;
  facts: Record<string, string>;
}> {
  const read = (file: string) => readFile(file, 'utf8').catch(() => '');
  const [mountinfo, status, uidMap] = await Promise.all([
    read('/proc/self/mountinfo'),
    read('/proc/self/status'),
    read('/proc/self/uid_map'),
  ]);
  const masked = maskedProcMounts(mountinfo);
  if (masked.length === 0) {
    return {
      check: { name: 'proc', ok: true, detail: '/proc is not masked' },
      facts: { proc: 'host' },
    };
  }
  const more = masked.length > 4 ? `, ... (${masked.length} in all)` : '';
  const shown = `${masked.slice(0, 4).join(', ')}${more}`;
  const unshare = which('unshare', SYSTEM_PATH);
  const mount = which('mount', SYSTEM_PATH);
  const umount = which('umount', SYSTEM_PATH);
  if (hostSysAdmin(status, uidMap) && unshare && mount && umount) {
    return {
      check: {
        name: 'proc',
        ok: true,
        detail: `/proc is masked here (${shown}; a job container): bubblewrap starts in a private mount namespace over a fresh, unmasked /proc, so that it may mount the sandbox's own /proc; the sandbox sees what it sees on a host`,
      },
      facts: { proc: 'private', unshare, mount, umount },
    };
  }
  return {
    check: {
      name: 'proc',
      ok: false,
      detail: `/proc is masked here (${shown}; a job container), so bubblewrap cannot mount the sandbox's /proc from its user namespace ("mount too revealing"), and flow-sandbox cannot unmask it ${unshare && mount && umount ? 'without CAP_SYS_ADMIN in the host user namespace' : '(unshare, mount or umount missing)'}`,
      fix: 'run the job container with the runner flags --cap-add ALL --security-opt seccomp=unconfined (or with --security-opt systempaths=unconfined), or use the kernel engine',
    },
    facts: {},
  };
}
