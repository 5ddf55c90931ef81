import { createHash } from 'node:crypto';

/** Prefix of every kernel object a run creates, so leftovers are easy to find. */
export const OBJECT_PREFIX = 'fsbx';

/** Longest interface name the kernel accepts (IFNAMSIZ - 1). */
const MAX_IFNAME = 15;

/** The names of one run's kernel objects, all derived from its run id. */
export interface KernelNames {
  /** Short id used in every name: lower-case letters and digits. */
  id: string;
  /** Network namespace (a file under /run/netns). */
  netns: string;
  /** veth end in the runner's namespace, where the firewall hooks. */
  hostIf: string;
  /** veth end inside the sandbox. */
  sandboxIf: string;
  /** nftables table (inet family) holding every rule of the run. */
  table: string;
  /** Prefix of the run's own iptables chains. */
  chain: string;
}

// Interface names are `fsbx` + id + one letter; the id gets what is left.
const MAX_ID = MAX_IFNAME - OBJECT_PREFIX.length - 1;

/**
 * Short id for a run id. A run id that is already short and plain is used
 * as it is, so an operator can match objects to runs by eye; anything else
 * is hashed, which keeps interface names within the kernel's 15 bytes.
 */
export function shortId(runId: string): string {
  if (/^[a-z0-9]{1,10}$/.test(runId) && runId.length <= MAX_ID) return runId;
  return createHash('sha256').update(runId).digest('hex').slice(0, MAX_ID);
}

/** Every kernel object name of a run. */
export function kernelNames(runId: string): KernelNames {
  const id = shortId(runId);
  const base = `${OBJECT_PREFIX}${id}`;
  return {
    id,
    netns: base,
    hostIf: `${base}h`,
    sandboxIf: `${base}s`,
    table: base,
    chain: base,
  };
}
