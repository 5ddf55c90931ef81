// Running the escape suite: which engines to run it against (and why one
// is skipped), the flow with its terminal cases, and the verdicts with the
// host's after-run checks folded in.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Testnet } from '../scripts/testnet/testnet.js';
import type { EscapeCase } from './cases/escape-types.js';
import type { EngineName } from './cases.js';
import { dnsMark, hostObserves, type DnsMark } from './escape-checks.js';
import {
  compareCases,
  FLOW_SCRIPT,
  parseFlowOutput,
  runFlow,
  writeCaseFiles,
  type CaseResult,
  type Observation,
} from './flow.js';
import { FLOW_SANDBOX } from './sandbox-run.js';
import { shellQuote } from '../src/exec/child.js';

/** Engines the suite runs against: FSBXT_ESCAPE_ENGINES, `-- --engine X`, or all. */
export function requestedEngines(): EngineName[] {
  const fromEnv = process.env.FSBXT_ESCAPE_ENGINES?.split(',') ?? [];
  const fromArgv = process.argv.flatMap((a, i, all) =>
    a === '--engine' && all[i + 1] ? [all[i + 1]!] : [],
  );
  const names = [...fromEnv, ...fromArgv].map((n) => n.trim()).filter(Boolean);
  return (names.length ? names : ['srt', 'kernel']) as EngineName[];
}

interface DoctorJson {
  engines: {
    engine: string;
    usable: boolean;
    checks: { name: string; ok: boolean; detail: string }[];
  }[];
}

let doctor: DoctorJson | undefined;

/** Why `engine` cannot be tested here (not in this build, or not usable), or undefined. */
export function engineSkipReason(engine: string): string | undefined {
  try {
    doctor ??= JSON.parse(
      execFileSync(FLOW_SANDBOX, ['doctor', '--json'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 60_000,
      }).toString(),
    ) as DoctorJson;
  } catch (error) {
    // doctor exits 1 when SRT cannot run; its JSON is still on stdout.
    const out = (error as { stdout?: string }).stdout;
    if (!out) return `flow-sandbox doctor failed: ${(error as Error).message}`;
    doctor = JSON.parse(out) as DoctorJson;
  }
  const found = doctor.engines.find((e) => e.engine === engine);
  if (!found) {
    const built = doctor.engines.map((e) => e.engine).join(', ');
    return `engine ${engine} is not in this build (doctor knows: ${built})`;
  }
  if (found.usable) return undefined;
  const failed = found.checks.filter((c) => !c.ok);
  // A host without an engine's prerequisites skips its cases; flow-sandbox
  // failing to drive an engine whose prerequisites are all here is a bug,
  // so the cases run and fail with it.
  if (failed.some((c) => PRODUCT_CHECKS.has(c.name))) return undefined;
  return `engine ${engine} cannot run here: ${failed.map((c) => c.detail).join('; ')}`;
}

/** Doctor checks that fail through flow-sandbox itself, not the host. */
const PRODUCT_CHECKS = new Set([
  'srt sandbox',
  'srt dependencies',
  'apply-seccomp',
]);

/** The `flow-sandbox run` options that pin one engine, never a fallback. */
export function engineOptions(
  engine: EngineName,
  configFile?: string,
): string[] {
  return [
    '--force-sandbox',
    '--engine',
    engine,
    '--minimum-level',
    engine,
    ...(configFile ? ['--config', configFile] : []),
    '--log-level',
    'warn',
  ];
}

// A terminal mangles lines (\r\n, echoed keystrokes): find the JSON anywhere.
function parseTtyOutput(text: string): Map<string, Observation> {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.slice(Math.max(0, l.indexOf('{"id":'))).replace(/\r$/, ''));
  return parseFlowOutput(lines.join('\n'));
}

/**
 * Runs the escape flow once: ordinary cases in one process tree (as an
 * agent's job), terminal cases each in their own run under `script`.
 */
export async function runEscapeFlow(
  net: Testnet,
  options: {
    cases: readonly EscapeCase[];
    wrap: readonly string[];
    env: Record<string, string>;
    casesDir: string;
  },
) {
  const mark = await dnsMark(net);
  const plain = options.cases.filter((c) => !c.tty);
  const { result, observations } = await runFlow(net, {
    ...options,
    cases: plain,
  });
  const dir = path.join(options.casesDir, 'tty');
  await writeCaseFiles(
    dir,
    options.cases.filter((c) => c.tty),
  );
  for (const c of options.cases.filter((c) => c.tty)) {
    const argv = [...options.wrap, 'sh', FLOW_SCRIPT, dir, c.id];
    // The probe may push characters into this terminal only (by device).
    const command = `export FSBXT_TTY_RDEV=$(stat -c %t:%T "$(tty)"); exec ${argv.map(shellQuote).join(' ')}`;
    const tty = await net.exec(['script', '-qec', command, '/dev/null'], {
      env: options.env,
      timeoutMs: 120_000,
    });
    const seen = parseTtyOutput(tty.stdout).get(c.id);
    if (seen) observations.set(c.id, seen);
  }
  return { result, observations, mark };
}

/** Compares with the table, after folding in what the host shows. */
export async function judgeEscapes(
  net: Testnet,
  cases: readonly EscapeCase[],
  observations: Map<string, Observation>,
  engine: EngineName | 'baseline',
  env: Record<string, string>,
  mark: DnsMark,
): Promise<CaseResult[]> {
  for (const c of cases) {
    if (!c.after) continue;
    const inside = observations.get(c.id);
    const host = await hostObserves(net, c.after, env, mark);
    if (!inside || inside.observed === 'error') continue;
    const through =
      host.through || (c.after.kind === 'dns' && inside.observed === 'allowed');
    observations.set(c.id, {
      ...inside,
      observed: through ? 'allowed' : 'refused',
      detail: `host: ${host.detail}; inside: ${inside.observed} ${inside.detail}`,
    });
  }
  return compareCases(cases, observations, engine);
}
