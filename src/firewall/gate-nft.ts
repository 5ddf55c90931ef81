import type { CommandRunner } from '../exec/runner.js';
import { BatchQueue } from './batch.js';
import { ExpiryBook, type AddressGate } from './gate.js';
import {
  grantElements,
  NFT_LOAD_ARGV,
  renderNftElements,
  type NftElement,
} from './nft.js';
import type { AddressGrant } from './spec.js';

type Change = NftElement & { timeoutSec?: number; extend: boolean };

/**
 * Adds learned addresses to the run's nft sets; the kernel expires them.
 * Each flush is one `nft -f -` transaction.
 */
export function nftGate(options: {
  exec: CommandRunner;
  table: string;
  now?: () => number;
}): AddressGate {
  const { exec, table } = options;
  const book = new ExpiryBook(options.now);
  const load = (text: string) => exec.run([...NFT_LOAD_ARGV], { input: text });

  const queue = new BatchQueue<Change>(async (changes) => {
    const add = changes;
    const remove = changes.filter((c) => c.extend);
    try {
      await load(renderNftElements(table, { add, remove }));
    } catch (error) {
      // An element we meant to extend may have timed out meanwhile, and
      // deleting a missing element fails the whole transaction.
      if (remove.length === 0) throw error;
      await load(renderNftElements(table, { add, remove: [] }));
    }
    for (const change of changes)
      book.record(`${change.set} ${change.key}`, change.timeoutSec);
  });

  return {
    async grant(grants: AddressGrant[]) {
      const changes: Change[] = [];
      for (const grant of grants) {
        for (const element of grantElements(grant)) {
          const need = book.need(
            `${element.set} ${element.key}`,
            grant.timeoutSec,
          );
          if (need === 'skip') continue;
          changes.push({
            ...element,
            timeoutSec: grant.timeoutSec,
            extend: need === 'extend',
          });
        }
      }
      await Promise.all(changes.map((change) => queue.push(change)));
    },
    async close() {
      await queue.idle();
    },
  };
}
