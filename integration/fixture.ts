import type { TestFn } from 'ava';
import type { Snapshot } from '../scripts/testnet/snapshot.js';
import { Testnet } from '../scripts/testnet/testnet.js';

/**
 * One test network for a test file: built before its tests, with a
 * snapshot of the runner taken first, and removed after them even when a
 * test failed.
 */
export function useTestnet(test: TestFn): {
  net: () => Testnet;
  start: () => Snapshot;
} {
  let net: Testnet | undefined;
  let start: Snapshot | undefined;
  test.before(async () => {
    net = await Testnet.create();
    start = await net.snapshot();
  });
  test.after.always(async () => {
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
