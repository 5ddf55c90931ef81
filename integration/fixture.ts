import type { TestFn } from 'ava';
import type { Snapshot } from '../scripts/testnet/snapshot.js';
import { Testnet } from '../scripts/testnet/testnet.js';

/** What a test file builds on top of the network, in the same hooks. */
export interface NetExtras {
  /** Runs right after the network and its snapshot exist. */
  prepare?: (net: Testnet) => Promise<void>;
  /** Runs before the network is removed, even when a test failed. */
  cleanup?: () => Promise<void>;
}

/**
 * One test network for a test file: built before its tests, with a
 * snapshot of the runner taken first, and removed after them even when a
 * test failed. `extras` run inside the same hooks (AVA runs separate
 * `before` hooks concurrently, so they could not rely on the network).
 */
export function useTestnet(
  test: TestFn,
  extras: NetExtras = {},
): {
  net: () => Testnet;
  start: () => Snapshot;
} {
  let net: Testnet | undefined;
  let start: Snapshot | undefined;
  test.before(async () => {
    net = await Testnet.create();
    start = await net.snapshot();
    await extras.prepare?.(net);
  });
  test.after.always(async () => {
    await extras.cleanup?.();
    const failures = await net?.destroy();
    if (failures?.length) {
      throw new Error(`testnet teardown: ${failures.join('; ')}`);
    }
  });
  return {
    net: () => net!,
    start: () => start!,
  };
}
