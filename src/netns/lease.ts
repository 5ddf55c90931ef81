import { randomInt } from 'node:crypto';
import {
  link,
  mkdir,
  readdir,
  readFile,
  rm,
  rmdir,
  unlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { SandboxError } from '../errors.js';
import {
  poolSize,
  slotCollides,
  slotSubnet,
  type ExistingRoute,
  type PoolConfig,
  type RunSubnet,
} from './pool.js';

/** A claimed pool slot: its addresses and the lease file that holds it. */
export interface Lease {
  subnet: RunSubnet;
  file: string;
}

const LEASE_SUFFIX = '.lease';

/** The lease file of a slot. */
export function leaseFile(poolDir: string, slot: number): string {
  return path.join(poolDir, `${slot}${LEASE_SUFFIX}`);
}

/** Slots that have a lease file, live or left over. */
export async function leasedSlots(poolDir: string): Promise<Set<number>> {
  const names = await readdir(poolDir).catch(() => [] as string[]);
  return new Set(
    names
      .filter((name) => name.endsWith(LEASE_SUFFIX))
      .map((name) => Number(name.slice(0, -LEASE_SUFFIX.length)))
      .filter(Number.isInteger),
  );
}

/** Where a run writes its lease before linking it to a slot. */
function claimFile(poolDir: string, runId: string): string {
  return path.join(poolDir, `.claim-${encodeURIComponent(runId)}`);
}

/**
 * Claims a free slot. The lease is written whole under a name of the run's
 * own, then linked to the slot's name: link(2) fails if that name exists,
 * so two runs that pick the same slot at once cannot both get it, and a
 * lease file is never empty or half written, even when its run is killed
 * mid-claim (releaseRunSlots finds it by the run id inside). Slots whose
 * addresses the runner already routes are skipped, and the search starts
 * at a random slot so concurrent runs rarely race at all.
 */
export async function claimSlot(options: {
  poolDir: string;
  pool: PoolConfig;
  runId: string;
  routes: readonly ExistingRoute[];
}): Promise<Lease> {
  const { poolDir, pool, runId, routes } = options;
  const claim = claimFile(poolDir, runId);
  const body = JSON.stringify({
    runId,
    pid: process.pid,
    claimedAt: new Date().toISOString(),
  });
  await writeClaim(poolDir, claim, `${body}\n`);
  try {
    const size = poolSize(pool);
    const taken = await leasedSlots(poolDir);
    const start = randomInt(size);
    for (let step = 0; step < size; step++) {
      const slot = (start + step) % size;
      if (taken.has(slot)) continue;
      const subnet = slotSubnet(slot, pool);
      if (slotCollides(subnet, routes)) continue;
      const file = leaseFile(poolDir, slot);
      try {
        await link(claim, file);
        return { subnet, file };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw new SandboxError(
          'APPLY_FAILED',
          `cannot write the address lease ${file}: ${String(error)}`,
          { cause: error },
        );
      }
    }
    throw new SandboxError(
      'APPLY_FAILED',
      `no free subnet in the kernel engine's address pool (${pool.v4}, ${size} slots, ${taken.size} leased); run \`flow-sandbox cleanup\` to remove leases of runs that were killed`,
    );
  } finally {
    await rm(claim, { force: true });
  }
}

// The last run to finish removes the empty pool directory; one that just
// did so between this run's mkdir and its write costs a second mkdir.
async function writeClaim(
  poolDir: string,
  file: string,
  body: string,
): Promise<void> {
  await mkdir(poolDir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, body, { mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(poolDir, { recursive: true, mode: 0o700 });
    await writeFile(file, body, { mode: 0o600 });
  }
}

/** Removes the pool directory once no run uses it; in use, it stays. */
export async function removeEmptyPool(poolDir: string): Promise<void> {
  await rmdir(poolDir).catch(() => undefined);
}

/** Gives a slot back; a missing lease file is not an error. */
export async function releaseSlot(lease: Pick<Lease, 'file'>): Promise<void> {
  await unlink(lease.file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/**
 * Gives back every slot a run holds, found by the run id in the lease
 * files (and its unlinked claim, if it was killed mid-claim): a run
 * records this before it claims, so one killed before it learned its slot
 * still has its lease removed.
 */
export async function releaseRunSlots(
  poolDir: string,
  runId: string,
): Promise<void> {
  await rm(claimFile(poolDir, runId), { force: true });
  for (const slot of await leasedSlots(poolDir)) {
    const file = leaseFile(poolDir, slot);
    const text = await readFile(file, 'utf8').catch(() => '');
    let owner: unknown;
    try {
      owner = (JSON.parse(text) as { runId?: unknown }).runId;
    } catch {
      // Not a lease of this version: not this run's.
    }
    if (owner === runId) await releaseSlot({ file });
  }
}
