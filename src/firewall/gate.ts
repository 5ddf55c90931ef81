import type { AddressGrant } from './spec.js';

/**
 * What the resolver calls to open addresses: resolves only once the
 * firewall lets them through, so the answer never races the rule.
 */
export interface AddressGate {
  grant(grants: AddressGrant[]): Promise<void>;
  /** Stops timers; the firewall itself goes with the run's teardown. */
  close(): Promise<void>;
}

// A grant that would end within this much of the current one changes
// nothing worth a firewall update.
const SLACK_MS = 1_000;

/** When each learned element lapses, so repeated answers cost nothing. */
export class ExpiryBook {
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** What a grant of `key` for `timeoutSec` needs: nothing, a new element, or a longer one. */
  need(key: string, timeoutSec: number | undefined): 'skip' | 'add' | 'extend' {
    const current = this.until.get(key);
    const wanted = this.deadline(timeoutSec);
    if (current === undefined || current <= this.now()) return 'add';
    return wanted > current + SLACK_MS ? 'extend' : 'skip';
  }

  record(key: string, timeoutSec: number | undefined): void {
    this.until.set(key, this.deadline(timeoutSec));
  }

  forget(key: string): void {
    this.until.delete(key);
  }

  /** Keys whose time is up, forgotten as they are returned. */
  takeExpired(): string[] {
    const now = this.now();
    const gone = [...this.until].filter(([, t]) => t <= now).map(([k]) => k);
    for (const key of gone) this.until.delete(key);
    return gone;
  }

  private deadline(timeoutSec: number | undefined): number {
    return timeoutSec === undefined ? Infinity : this.now() + timeoutSec * 1000;
  }
}
