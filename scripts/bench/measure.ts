import { spawnSync } from 'node:child_process';

/** One command to time, as argv, with its environment. */
export interface Subject {
  name: string;
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** Wall-clock milliseconds of one run; throws if the command fails. */
export function timeOnce(subject: Subject): number {
  const start = process.hrtime.bigint();
  const [file, ...args] = subject.argv;
  const result = spawnSync(file!, args, {
    env: subject.env ?? process.env,
    cwd: subject.cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(
      `${subject.name} failed (status ${result.status}): ${String(result.stderr).slice(-500)}`,
    );
  }
  return ms;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? sorted[mid]!
    : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Times subjects interleaved (one run of each per round) so machine noise
 * hits all of them alike; returns the median per subject.
 */
export function compare(
  subjects: Subject[],
  rounds: number,
  warmup = 2,
): Map<string, number> {
  for (let i = 0; i < warmup; i += 1) subjects.forEach(timeOnce);
  const samples = new Map(subjects.map((s) => [s.name, [] as number[]]));
  for (let i = 0; i < rounds; i += 1) {
    for (const s of subjects) samples.get(s.name)!.push(timeOnce(s));
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

/** One line of the ratio report, with the target and whether it is met. */
export function ratioLine(
  label: string,
  value: number,
  target: { max?: number; min?: number },
): string {
  const ok =
    (target.max === undefined || value <= target.max) &&
    (target.min === undefined || value >= target.min);
  const goal =
    target.max !== undefined
      ? `target <= ${target.max}`
      : target.min !== undefined
        ? `target >= ${target.min}`
        : '';
  return `${label.padEnd(58)} ${value.toFixed(3).padStart(8)}  ${goal.padEnd(14)} ${goal ? (ok ? 'met' : 'NOT MET') : ''}`;
}
