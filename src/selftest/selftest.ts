import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunInside } from '../engines/types.js';
import type { Policy } from '../policy/types.js';
import type { SelftestCheck, SelftestResult } from '../report/types.js';
import type { ProbeConfig } from './probe.js';

/**
 * A documentation address (TEST-NET-1): never routed, so a broken sandbox
 * sends nothing anywhere useful. The probe counts a hang as a failure,
 * because every engine refuses at once.
 */
export const DEFAULT_SELFTEST_ADDRESS = '192.0.2.1';
const OUTSIDE_NAME = 'selftest.flow-sandbox.invalid';

/** The probe script, next to this module in dist/ (bundled runs included). */
export function probeScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const inDist = here.endsWith(path.join('dist', 'bundle'))
    ? path.join(here, '..', 'src', 'selftest')
    : here;
  return path.join(inDist, 'probe.js');
}

function covered(file: string, roots: string[]): boolean {
  return roots.some((r) => file === r || file.startsWith(`${r}/`));
}

/** What the probe tries, derived from the policy it must find enforced. */
export function probeConfig(
  policy: Policy,
  options: { home: string; runId: string; address?: string },
): ProbeConfig {
  const writable = policy.filesystem.allowWrite.map((p) => p.path);
  const name = `.fsbx-selftest-${options.runId}`;
  const candidates = [
    path.join(options.home, name),
    path.join('/etc', name),
    path.join('/usr', name),
  ];
  return {
    outsideName: OUTSIDE_NAME,
    outsideAddress: options.address ?? DEFAULT_SELFTEST_ADDRESS,
    outsidePort: 80,
    sshDir: path.join(options.home, '.ssh'),
    forbiddenWrites: candidates.filter((f) => !covered(f, writable)),
    timeoutMs: 3000,
  };
}

/** Runs the probe inside the applied sandbox and judges each check. */
export async function runSelftest(
  runInside: RunInside,
  config: ProbeConfig,
): Promise<SelftestResult> {
  const result = await runInside([
    process.execPath,
    probeScript(),
    JSON.stringify(config),
  ]);
  let raw: Array<{
    name: string;
    observed: SelftestCheck['observed'];
    detail: string;
  }>;
  try {
    raw = JSON.parse(result.stdout.trim().split('\n').pop() ?? '');
  } catch {
    const why =
      result.stderr.trim().split('\n').slice(-3).join(' / ') ||
      `status ${result.status}`;
    return {
      pass: false,
      checks: [
        {
          name: 'self-test probe',
          expected: 'refused',
          observed: 'error',
          detail: `the probe did not report: ${why}`,
          pass: false,
        },
      ],
    };
  }
  const checks = raw.map((c) => ({
    ...c,
    expected: 'refused' as const,
    pass: c.observed === 'refused',
  }));
  return { pass: checks.every((c) => c.pass), checks };
}

/** The pass/fail table for the job log. */
export function selftestTable(result: SelftestResult): string {
  const rows = result.checks.map(
    (c) =>
      `  ${c.name.padEnd(30)} ${c.expected.padEnd(8)} ${c.observed.padEnd(8)} ${c.pass ? 'PASS' : 'FAIL'}  ${c.detail}`,
  );
  return [
    `  ${'check'.padEnd(30)} ${'expected'.padEnd(8)} ${'observed'.padEnd(8)} result`,
    ...rows,
    `  self-test ${result.pass ? 'PASSED' : 'FAILED'}`,
  ].join('\n');
}
