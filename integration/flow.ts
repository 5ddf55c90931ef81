import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Testnet } from '../scripts/testnet/testnet.js';
import {
  expectedFor,
  type EngineName,
  type Verdict,
  type VerdictCase,
} from './cases.js';

/** The repository root (this file runs from dist/integration/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FLOW_SCRIPT = path.join(REPO_ROOT, 'scripts/flow/agent-flow.sh');

/** What the flow script printed for one case. */
export interface Observation {
  id: string;
  observed: Verdict | 'error';
  status: number;
  detail: string;
}

/** One row of a comparison: what was expected, what was seen. */
export interface CaseResult {
  case: VerdictCase;
  expected: Verdict;
  observed: Verdict | 'error' | 'missing';
  ok: boolean;
  /** The expectation is an engine's documented gap, not the table's verdict. */
  gap: boolean;
  detail: string;
}

/** Writes the cases as files the flow script reads (`<id>.sh` and `order`). */
export async function writeCaseFiles(
  dir: string,
  cases: readonly VerdictCase[],
): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const c of cases) {
    await writeFile(path.join(dir, `${c.id}.sh`), `${c.script}\n`);
  }
  await writeFile(
    path.join(dir, 'order'),
    cases.map((c) => `${c.id}\n`).join(''),
  );
  return dir;
}

/** Parses the flow's JSON lines; other lines (a sandbox's chatter) are skipped. */
export function parseFlowOutput(stdout: string): Map<string, Observation> {
  const found = new Map<string, Observation>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{"id":')) continue;
    try {
      const o = JSON.parse(line) as Observation;
      found.set(o.id, o);
    } catch {
      // A truncated line counts as a missing observation.
    }
  }
  return found;
}

/** Compares observations with the table; `engine` picks documented gaps. */
export function compareCases(
  cases: readonly VerdictCase[],
  seen: Map<string, Observation>,
  engine: EngineName | 'baseline',
): CaseResult[] {
  return cases.map((c) => {
    const expected = engine === 'baseline' ? 'allowed' : expectedFor(c, engine);
    const o = seen.get(c.id);
    const observed = o?.observed ?? 'missing';
    return {
      case: c,
      expected,
      observed,
      ok: observed === expected,
      gap: expected !== c.expected && engine !== 'baseline',
      detail: o?.detail ?? '',
    };
  });
}

/** Cases that may run without a sandbox (the baseline). */
export function baselineCases<T extends VerdictCase>(cases: readonly T[]): T[] {
  return cases.filter((c) => c.baseline !== false);
}

/**
 * Runs the whole flow once in the test network: `wrap` is the sandbox
 * command put in front (empty for the baseline). Returns the raw result
 * and the parsed observations.
 */
export async function runFlow(
  net: Testnet,
  options: {
    cases: readonly VerdictCase[];
    wrap: readonly string[];
    env?: Record<string, string>;
    casesDir?: string;
  },
) {
  const dir = await writeCaseFiles(
    options.casesDir ?? path.join(net.paths.base, 'cases'),
    options.cases,
  );
  const result = await net.exec([...options.wrap, 'sh', FLOW_SCRIPT, dir], {
    env: options.env,
    timeoutMs: 600_000,
  });
  return { result, observations: parseFlowOutput(result.stdout) };
}

/** Canonical names from the DNS log that a sandboxed run must not have asked. */
export function leakedNames(
  cases: readonly VerdictCase[],
  queried: readonly string[],
): string[] {
  const asked = new Set(queried.map((n) => n.toLowerCase().replace(/\.$/, '')));
  return cases.flatMap((c) => c.neverQueried ?? []).filter((n) => asked.has(n));
}

/** Rows that do not match, as readable lines (an empty list is a pass). */
export function failures(rows: readonly CaseResult[]): string[] {
  return rows
    .filter((r) => !r.ok)
    .map(
      (r) =>
        `${r.case.id}: expected ${r.expected}, observed ${r.observed} (${r.detail})`,
    );
}

/** How a row reads: OK, OK (known gap) or FAIL. */
export function resultText(r: CaseResult): string {
  if (!r.ok) return 'FAIL';
  return r.gap ? `OK (known gap: ${r.expected})` : 'OK';
}

/** A plain-text table: case, the table's verdict, observed, result. */
export function formatTable(results: readonly CaseResult[]): string {
  const width = Math.max(...results.map((r) => r.case.id.length), 4);
  const head = `${'case'.padEnd(width)}  expected  observed  result`;
  const rows = results.map(
    (r) =>
      `${r.case.id.padEnd(width)}  ${r.case.expected.padEnd(8)}  ${r.observed.padEnd(8)}  ${resultText(r)}`,
  );
  return [head, '-'.repeat(head.length), ...rows].join('\n');
}

/** The engine flow-sandbox reported choosing, from its job-log line. */
export function chosenEngine(stderr: string): string {
  return /\] engine: (\w+):/.exec(stderr)?.[1] ?? 'unknown';
}

/**
 * Where two engines' rows for the same table disagree: a case missing
 * from either, or not as expected under either. Both as expected means
 * the same verdict, or the engine's documented gap (shown as such in both
 * tables). Empty when the tables are the same case by case.
 */
export function tableDifferences(
  a: { engine: string; rows: readonly CaseResult[] },
  b: { engine: string; rows: readonly CaseResult[] },
): string[] {
  const row = (rows: readonly CaseResult[], id: string) =>
    rows.find((r) => r.case.id === id);
  const shown = (engine: string, r: CaseResult | undefined) =>
    `${engine} ${r?.observed ?? 'missing'} (${r ? resultText(r) : 'no row'})`;
  const ids = new Set([...a.rows, ...b.rows].map((r) => r.case.id));
  return [...ids].flatMap((id) => {
    const [x, y] = [row(a.rows, id), row(b.rows, id)];
    return x?.ok && y?.ok
      ? []
      : [`${id}: ${shown(a.engine, x)}, ${shown(b.engine, y)}`];
  });
}
