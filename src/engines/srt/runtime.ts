import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { shellQuote } from '../../exec/child.js';
import { byExistence } from '../../mounts/created.js';
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
  const { present, absent } = await byExistence(
    SRT_EXTRA_PROTECTED.map((name) => path.join(cwd, name)),
  );
  return {
    settings: {
      ...planned,
      filesystem: {
        ...filesystem,
        denyRead: [
          ...filesystem.denyRead,
          ...(await maskPaths(
            [...found.required, ...found.bestEffort],
            masks?.allowed ?? [],
          )),
        ],
        denyWrite: [...filesystem.denyWrite, ...present],
      },
    },
    mustHide: found.required,
    absent,
  };
}

/**
 * What to mask for these sockets. Bubblewrap fails to start when a path
 * it mounts over has vanished, and sockets come and go (a container's
 * shim socket under /run/containerd/s lives as long as the container): a
 * directory that holds nothing but sockets to hide is masked whole (an
 * empty tmpfs), which outlives any of them; elsewhere each socket is.
 */
export async function maskPaths(
  sockets: readonly string[],
  allowed: readonly string[],
): Promise<string[]> {
  const byDir = new Map<string, string[]>();
  for (const socket of sockets) {
    const dir = path.dirname(socket);
    byDir.set(dir, [...(byDir.get(dir) ?? []), socket]);
  }
  const paths: string[] = [];
  for (const [dir, inDir] of byDir) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(
      () => undefined,
    );
    const onlySockets =
      entries !== undefined &&
      entries.every(
        (e) => e.isSocket() && !allowed.includes(path.join(dir, e.name)),
      ) &&
      !allowed.some((a) => a === dir || a.startsWith(`${dir}/`));
    if (onlySockets) paths.push(dir);
    else paths.push(...inDir);
  }
  return paths;
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
