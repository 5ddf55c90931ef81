import { readFileSync } from 'node:fs';

/** One line of /proc/PID/mountinfo (proc(5)): where, and of what type. */
export interface MountEntry {
  /** The mount point, its octal escapes (`\040` for a space) decoded. */
  point: string;
  type: string;
}

/** The mounts of a mountinfo text, in its order. */
export function mountEntries(mountinfo: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    const point = before?.split(' ')[4];
    if (!point) continue;
    entries.push({
      point: point.replace(/\\([0-7]{3})/g, (_, o: string) =>
        String.fromCharCode(parseInt(o, 8)),
      ),
      type: after?.split(' ')[0] ?? '',
    });
  }
  return entries;
}

/**
 * Kernel filesystems: their files are made by the kernel, never linked by
 * anyone (and a hard link cannot cross filesystems), and walking them is
 * long or refused (/proc/N/task/... as root). The link search
 * (src/policy/links.ts) skips them: a writable path over `/` would
 * otherwise read every process's /proc.
 */
const KERNEL_FILESYSTEMS = new Set([
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup',
  'cgroup2',
  'configfs',
  'debugfs',
  'devpts',
  'efivarfs',
  'fusectl',
  'hugetlbfs',
  'mqueue',
  'nsfs',
  'proc',
  'pstore',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'sysfs',
  'tracefs',
]);

/** Mount points of kernel filesystems in a mountinfo text (proc(5)). */
export function kernelMounts(mountinfo: string): Set<string> {
  return new Set(
    mountEntries(mountinfo)
      .filter((m) => KERNEL_FILESYSTEMS.has(m.type))
      .map((m) => m.point),
  );
}

/** The kernel filesystems' mount points in the controller's mount namespace. */
export function ownKernelMounts(): Set<string> {
  try {
    return kernelMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return new Set();
  }
}
