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
