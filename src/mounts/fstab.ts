import type { MountStep } from './plan.js';

/** One fstab line: what `mount --all` mounts, in file order. */
export interface FstabEntry {
  source: string;
  target: string;
  type: string;
  options: string;
}

/** A planned step with what was found on disk at run time. */
export type ResolvedStep =
  | Exclude<MountStep, { kind: 'hide' | 'dev' }>
  | { kind: 'dev'; staging: string; why: string; nodes: string[]; pts: boolean }
  | {
      kind: 'hide';
      path: string;
      why: string;
      optional: boolean;
      isDirectory: boolean;
    };

const HIDE_DIR = 'ro,nosuid,nodev,noexec,size=4k,mode=0700';

/** The fstab lines of one step (pure). */
export function stepEntries(step: ResolvedStep): FstabEntry[] {
  switch (step.kind) {
    case 'dev':
      return [
        ...step.nodes.map((node) => ({
          source: `/dev/${node}`,
          target: `${step.staging}/${node}`,
          type: 'none',
          options: 'bind',
        })),
        ...(step.pts
          ? [
              {
                source: '/dev/pts',
                target: `${step.staging}/pts`,
                type: 'none',
                options: 'rbind',
              },
            ]
          : []),
        {
          source: step.staging,
          target: '/dev',
          type: 'none',
          options: 'rbind',
        },
      ];
    case 'proc':
      // The source name only labels the mount; "proc" would make
      // `mount --all` think the old /proc is this one and skip it.
      return [
        {
          source: 'fsbxproc',
          target: '/proc',
          type: 'proc',
          options: 'nosuid,nodev,noexec',
        },
      ];
    case 'writable':
      // A bind keeps the read-only flag of the mount it copies, so the
      // writable flag needs a remount of its own.
      return [
        {
          source: step.path,
          target: step.path,
          type: 'none',
          options: 'rbind',
        },
        {
          source: 'none',
          target: step.path,
          type: 'none',
          options: 'remount,bind,rw',
        },
      ];
    case 'read-only':
      return [
        {
          source: step.path,
          target: step.path,
          type: 'none',
          options: 'bind,ro',
        },
      ];
    case 'hide':
      return step.isDirectory
        ? [
            {
              source: 'fsbxhide',
              target: step.path,
              type: 'tmpfs',
              options: HIDE_DIR,
            },
          ]
        : [
            {
              source: '/dev/null',
              target: step.path,
              type: 'none',
              options: 'bind,ro',
            },
          ];
    case 'file':
      return [
        {
          source: step.source,
          target: step.target,
          type: 'none',
          options: 'bind,ro',
        },
      ];
    case 'tmpfs':
      return [
        {
          source: 'fsbxtmp',
          target: step.path,
          type: 'tmpfs',
          options: 'nosuid,nodev,mode=1777',
        },
      ];
  }
}

// fstab fields are separated by blanks; these escapes are what libmount
// decodes, and they keep a path from starting a comment or a new field.
function escapeField(text: string): string {
  return text.replace(
    /[\\ \t\n#]/g,
    (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`,
  );
}

/** Renders fstab text for `mount --all --fstab` (pure). */
export function renderFstab(entries: readonly FstabEntry[]): string {
  return entries
    .map(
      (e) =>
        `${escapeField(e.source)} ${escapeField(e.target)} ${e.type} ${e.options} 0 0\n`,
    )
    .join('');
}
