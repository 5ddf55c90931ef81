import { parseAddress } from '../../policy/entries.js';
import { canonicalQueryName } from '../../policy/names.js';
import type { AuditObservations, ObservedDestination } from '../types.js';

/** Most distinct destinations an audit keeps: a flow cannot grow our memory without bound. */
const MAX_DESTINATIONS = 1000;

/** A name in canonical form, an address in canonical text form. */
function canonicalHost(host: string): string {
  const bare = host.replace(/^\[|\]$/g, '');
  const address = parseAddress(bare);
  if (address) return address.address;
  return canonicalQueryName(host) ?? host;
}

class Tally {
  private readonly seen = new Map<string, ObservedDestination>();
  dropped = 0;

  add(host: string, port: number, reason?: string): void {
    const h = canonicalHost(host);
    const key = `${h} ${port} ${reason ?? ''}`;
    const found = this.seen.get(key);
    if (found) {
      found.count += 1;
    } else if (this.seen.size < MAX_DESTINATIONS) {
      this.seen.set(key, {
        host: h,
        port,
        count: 1,
        ...(reason ? { reason } : {}),
      });
    } else {
      this.dropped += 1;
    }
  }

  list(): ObservedDestination[] {
    return [...this.seen.values()].sort(
      (a, b) => a.host.localeCompare(b.host) || a.port - b.port,
    );
  }
}

// SRT records each proxy refusal as `deny network-outbound HOST:PORT (REASON)`.
const DENY_LINE = /^deny network-outbound (.+):(\d+) \((.*)\)$/;

/** The part of SRT's violation store an audit reads. */
export interface ViolationSource {
  getTotalCount(): number;
  subscribe(listener: (violations: { line: string }[]) => void): () => void;
}

/**
 * Records an SRT audit. SRT checks deniedDomains first and asks the
 * callback only for hosts on neither list (with strictAllowlist off), so
 * deny entries still block; the callback records and lets the rest through
 * once `start` is called (before that it refuses, as enforcement would:
 * the self-test runs first and must see the policy enforced).
 * Refusals are read from SRT's violation store as they happen: it keeps
 * only its last 100 lines.
 */
export function srtAuditRecorder() {
  const letThrough = new Tally();
  const refused = new Tally();
  let auditing = false;
  return {
    ask: async ({ host, port }: { host: string; port?: number }) => {
      if (!auditing) return false;
      letThrough.add(host, port ?? 0);
      return true;
    },
    /** From now on, record and let through. */
    start(): void {
      auditing = true;
    },
    /** Follows the store's new lines until the returned function is called. */
    watch(store: ViolationSource): () => void {
      let seen = store.getTotalCount();
      return store.subscribe((violations) => {
        const total = store.getTotalCount();
        const fresh = Math.min(total - seen, violations.length);
        seen = total;
        for (const v of violations.slice(violations.length - fresh)) {
          const m = DENY_LINE.exec(v.line);
          if (m) refused.add(m[1]!, Number(m[2]), m[3]);
        }
      });
    },
    observations(): AuditObservations {
      return { letThrough: letThrough.list(), refused: refused.list() };
    },
  };
}
