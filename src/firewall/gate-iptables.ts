import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log/logger.js';
import { BatchQueue } from './batch.js';
import { ExpiryBook, type AddressGate } from './gate.js';
import {
  IPTABLES_RESTORE,
  iptablesGrantRules,
  renderIptablesRules,
  type TableRule,
} from './iptables.js';
import type { AddressGrant } from './spec.js';

type Op = { op: '-A' | '-D'; family: 4 | 6; rule: TableRule };

const SWEEP_MS = 500;

/**
 * Adds learned addresses as rules in the run's own chains. iptables has no
 * element timeouts, so a sweep deletes rules whose time is up.
 */
export function iptablesGate(options: {
  exec: CommandRunner;
  chain: string;
  log: Logger;
  now?: () => number;
}): AddressGate {
  const { exec, chain, log } = options;
  const book = new ExpiryBook(options.now);
  // What each booked key stands for, to delete it when its time is up.
  const booked = new Map<string, { family: 4 | 6; rule: TableRule }>();
  const keyOf = (rule: TableRule) => `${rule.table} ${rule.rule}`;

  const queue = new BatchQueue<Op>(async (ops) => {
    for (const family of [4, 6] as const) {
      for (const op of ['-D', '-A'] as const) {
        const rules = ops
          .filter((o) => o.family === family && o.op === op)
          .map((o) => o.rule);
        if (rules.length === 0) continue;
        await exec.run([...IPTABLES_RESTORE[family]], {
          input: renderIptablesRules(op, rules),
        });
      }
    }
  });

  const sweep = setInterval(() => {
    const expired = book.takeExpired();
    if (expired.length === 0) return;
    const ops = expired.map((key) => ({
      op: '-D' as const,
      ...booked.get(key)!,
    }));
    for (const key of expired) booked.delete(key);
    Promise.all(ops.map((op) => queue.push(op))).catch((error: unknown) =>
      log.warn('could not remove expired sandbox firewall rules', {
        error: String(error),
      }),
    );
  }, SWEEP_MS);
  sweep.unref();

  return {
    async grant(grants: AddressGrant[]) {
      const pushes: Array<Promise<void>> = [];
      for (const grant of grants) {
        for (const rule of iptablesGrantRules(chain, grant)) {
          const key = keyOf(rule);
          const need = book.need(key, grant.timeoutSec);
          // Recorded before the rule exists, so a second answer for the
          // same address does not append a duplicate rule meanwhile.
          book.record(key, grant.timeoutSec);
          if (need !== 'add') continue;
          booked.set(key, { family: grant.family, rule });
          const added = queue.push({ op: '-A', family: grant.family, rule });
          pushes.push(
            added.catch((error: unknown) => {
              book.forget(key);
              throw error;
            }),
          );
        }
      }
      await Promise.all(pushes);
    },
    async close() {
      clearInterval(sweep);
      await queue.idle();
    },
  };
}
