import path from 'node:path';
import { DEFAULT_STAND_IN, type StandInRanges } from '../../dns/stand-in.js';
import { DEFAULT_POOL, type PoolConfig } from '../../netns/pool.js';

/** Settings of the kernel engine that are not policy; tests shorten the timeouts. */
export interface KernelOptions {
  pool: PoolConfig;
  /** Where the stand-in addresses that answer allowed names come from. */
  standIn: StandInRanges;
  /** Shortest time a learned address stays open, whatever the TTL says. */
  ttlFloorSec: number;
  /** The runner's resolver configuration and hosts file. */
  resolvConf: string;
  hostsFile: string;
  /** Port the resolver listens on (53: what the sandbox's libc asks). */
  dnsPort: number;
  /** Shared by all runs: address leases and the forwarding state. */
  poolDir?: string;
}

/**
 * Learned addresses stay open at least this long: clients and libraries
 * keep answers longer than their TTL, and a connection they open later to a
 * cached address should still work.
 */
export const DEFAULT_TTL_FLOOR_SEC = 300;

export const DEFAULT_KERNEL_OPTIONS: KernelOptions = {
  pool: DEFAULT_POOL,
  standIn: DEFAULT_STAND_IN,
  ttlFloorSec: DEFAULT_TTL_FLOOR_SEC,
  resolvConf: '/etc/resolv.conf',
  hostsFile: '/etc/hosts',
  dnsPort: 53,
};

/**
 * The pool directory: beside the run's state directory, so every run under
 * the same state root shares it (and `flow-sandbox cleanup` finds it).
 */
export function poolDirFor(
  stateDir: string,
  options: Pick<KernelOptions, 'poolDir'>,
): string {
  return options.poolDir ?? path.join(path.dirname(stateDir), 'kernel-pool');
}
