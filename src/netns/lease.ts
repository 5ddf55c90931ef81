import { randomInt } from 'node:crypto';
import { mkdir, readdir, unlink, writeFile } from 'node:fs/promises';
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

/**
 * Claims a free slot. Creating the lease file with O_EXCL is the atomic
 * step: two runs that pick the same slot at once cannot both create it.
 * Slots whose addresses the runner already routes are skipped, and the
 * search starts at a random slot so concurrent runs rarely race at all.
 */
export async function claimSlot(options: {
  poolDir: string;
  pool: PoolConfig;
  runId: string;
  routes: readonly ExistingRoute[];
}): Promise<Lease> {
  const { poolDir, pool, runId, routes } = options;
  await mkdir(poolDir, { recursive: true, mode: 0o700 });
  const size = poolSize(pool);
  const taken = await leasedSlots(poolDir);
  const start = randomInt(size);
  for (let step = 0; step < size; step++) {
    const slot = (start + step) % size;
    if (taken.has(slot)) continue;
    const subnet = slotSubnet(slot, pool);
    if (slotCollides(subnet, routes)) continue;
    const file = leaseFile(poolDir, slot);
    const body = JSON.stringify({
      runId,
      pid: process.pid,
      claimedAt: new Date().toISOString(),
    });
    try {
      await writeFile(file, `${body}\n`, { flag: 'wx', mode: 0o600 });
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
}

/** Gives a slot back; a missing lease file is not an error. */
export async function releaseSlot(lease: Pick<Lease, 'file'>): Promise<void> {
  await unlink(lease.file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
