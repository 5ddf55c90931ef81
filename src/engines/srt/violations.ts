import type { BlockedReport } from '../../report/types.js';
import { emptyBlocked } from '../../report/types.js';

/** What SRT lets flow-sandbox see of what it refused. */
export const SRT_VISIBILITY = [
  'SRT reports connections its proxies refused (by name or address, with port)',
  'SRT does not report refused writes or reads, nor traffic that never reached its proxies (no route out of its namespace)',
];

const OUTBOUND = /^deny network-outbound (.+):(\d+) \((.*)\)$/;

/** Folds SRT's violation lines into counted destinations. */
export function blockedFromViolations(lines: string[]): BlockedReport {
  const report = emptyBlocked(SRT_VISIBILITY);
  const counts = new Map<
    string,
    { host: string; port: number; reason: string; count: number }
  >();
  for (const line of lines) {
    const match = OUTBOUND.exec(line);
    if (!match) continue;
    const [, host, port, reason] = match as unknown as [
      string,
      string,
      string,
      string,
    ];
    const key = `${host}:${port}`;
    const entry = counts.get(key) ?? {
      host,
      port: Number(port),
      reason,
      count: 0,
    };
    entry.count += 1;
    counts.set(key, entry);
  }
  report.destinations = [...counts.values()].map((d) => ({
    host: d.host,
    port: d.port,
    protocol: 'tcp',
    count: d.count,
    reason: d.reason,
  }));
  return report;
}
