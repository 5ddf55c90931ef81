import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { shellQuote } from '../../exec/child.js';
import type { SocketPlan } from '../../mounts/plan.js';
import { SRT_EXTRA_PROTECTED } from '../../mounts/protected.js';
import { socketsToHide } from '../../mounts/resolve.js';
import type { SrtSettings } from './settings.js';

/** What the run adds to the planned settings once it has looked at the host. */
export interface RuntimeSettings {
  settings: SrtSettings;
  /** Sockets under /run that must not be sockets inside the sandbox. */
  mustHide: string[];
  /**
   * Protected paths that do not exist yet: what the command creates there
   * is removed once it has ended (see removeCreated).
   */
  absent: string[];
}

/**
 * Completes the planned settings with what only the host can tell, the
 * way the kernel engine completes its mount view:
 * - SRT on Linux allows every Unix socket or none, so when the policy
 *   lists some (the Docker socket), the unlisted sockets found now are
 *   masked with SRT's read denial (a /dev/null over each);
 * - the protected paths SRT does not know (`.git/modules`, git's
 *   pointers to other configuration, Claude Code's project settings) are
 *   write-protected where they exist, and listed where they do not, for
 *   the run to remove what the command creates there, as the kernel
 *   engine does.
 */
export async function completeSettings(
  planned: SrtSettings,
  cwd: string,
  masks: SocketPlan | undefined,
): Promise<RuntimeSettings> {
  const { filesystem } = planned;
  const found = masks
    ? await socketsToHide(masks, filesystem.denyRead)
    : { required: [], bestEffort: [] };
  const extra = SRT_EXTRA_PROTECTED.map((name) => path.join(cwd, name));
  const exists = await Promise.all(
    extra.map(
      async (p) => (await lstat(p).catch(() => undefined)) !== undefined,
    ),
  );
  const present = extra.filter((_, i) => exists[i]);
  const absent = extra.filter((_, i) => !exists[i]);
  return {
    settings: {
      ...planned,
      filesystem: {
        ...filesystem,
        denyRead: [
          ...filesystem.denyRead,
          ...found.required,
          ...found.bestEffort,
        ],
        denyWrite: [...filesystem.denyWrite, ...present],
      },
    },
    mustHide: found.required,
    absent,
  };
}

/**
 * Shell text, run inside the sandbox before the ready signal, that stops
 * the run (status 125) if a socket that had to be hidden is still one.
 */
export function hiddenSocketsCheck(mustHide: readonly string[]): string {
  if (mustHide.length === 0) return '';
  const list = mustHide.map(shellQuote).join(' ');
  return `for fsbx_s in ${list}; do if [ -S "$fsbx_s" ]; then echo "flow-sandbox: $fsbx_s could not be hidden" >&2; exit 125; fi; done; unset fsbx_s;`;
}
