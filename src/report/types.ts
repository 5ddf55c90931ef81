import type { EngineName, Level } from '../engines/types.js';

/** A refused destination, as the engine saw it. */
export interface BlockedDestination {
  /** A name (refused before resolution) or an address. */
  host: string;
  port?: number;
  protocol?: string;
  count: number;
  reason?: string;
}

/** What an engine refused during one run. */
export interface BlockedReport {
  /** Names refused at lookup (never resolved upstream). */
  names: Array<{ name: string; count: number }>;
  destinations: BlockedDestination[];
  writes: Array<{ path: string; count: number }>;
  /** What this engine can and cannot observe, in words. */
  visibility: string[];
}

/** One self-test check and its outcome. */
export interface SelftestCheck {
  name: string;
  expected: 'refused';
  observed: 'refused' | 'allowed' | 'error';
  detail: string;
  pass: boolean;
}

export interface SelftestResult {
  pass: boolean;
  checks: SelftestCheck[];
}

/** The end-of-run summary: job log and `--report FILE`. */
export interface RunReport {
  runId: string;
  engine: EngineName;
  level: Level;
  sandboxApplied: boolean;
  decision: string;
  exitCode: number;
  warnings: string[];
  blocked: BlockedReport;
  selftest?: SelftestResult;
}

export function emptyBlocked(visibility: string[] = []): BlockedReport {
  return { names: [], destinations: [], writes: [], visibility };
}
