// `make demo`: builds the private test network, runs the agent flow once
// without a sandbox (every case must be possible) and once under
// flow-sandbox with the default policy (--force-sandbox, engine auto),
// prints case / expected / observed / OK-FAIL, tears the network down, and
// exits non-zero if any case differs.
import { CASES, type EngineName } from '../integration/cases.js';
import {
  baselineCases,
  compareCases,
  runFlow,
  resultText,
  type CaseResult,
  type Observation,
} from '../integration/flow.js';
import { jobEnv, sandboxWrap } from '../integration/sandbox-run.js';
import { rootSkipReason } from '../integration/skip.js';
import { Testnet } from './testnet/testnet.js';

const say = (line = '') => process.stdout.write(`${line}\n`);

/** The engine flow-sandbox reported choosing, from its job-log line. */
function chosenEngine(stderr: string): string {
  return /\] engine: (\w+):/.exec(stderr)?.[1] ?? 'unknown';
}

function table(rows: CaseResult[], baseline: Map<string, Observation>): string {
  const width = Math.max(...rows.map((r) => r.case.id.length));
  const head = `${'case'.padEnd(width)}  unsandboxed  expected  observed  result`;
  const lines = rows.map((r) => {
    const base =
      r.case.baseline === false
        ? 'skipped'
        : (baseline.get(r.case.id)?.observed ?? 'missing');
    return `${r.case.id.padEnd(width)}  ${base.padEnd(11)}  ${r.case.expected.padEnd(8)}  ${r.observed.padEnd(8)}  ${resultText(r)}`;
  });
  return [head, '-'.repeat(head.length), ...lines].join('\n');
}

async function demo(net: Testnet): Promise<number> {
  say(
    `Test network fsbxt${net.id}: runner namespace ${net.runnerNs}, instance gitlab.test, HOME ${net.paths.home}`,
  );
  say(
    '1. the agent flow WITHOUT a sandbox (every case must be possible here)...',
  );
  const base = await runFlow(net, { cases: baselineCases(CASES), wrap: [] });

  say(
    '2. the agent flow under: flow-sandbox run --force-sandbox (engine auto, default policy)...',
  );
  const { result, observations } = await runFlow(net, {
    cases: CASES,
    wrap: sandboxWrap(['--force-sandbox']),
    env: jobEnv(net),
  });
  const engine = chosenEngine(result.stderr);
  say();
  say('flow-sandbox job log:');
  for (const line of result.stderr
    .split('\n')
    .filter((l) => l.startsWith('[flow-sandbox]'))) {
    say(`  ${line}`);
  }
  say();
  const known = ['srt', 'kernel', 'docker', 'none'].includes(engine);
  const judged = compareCases(
    CASES,
    observations,
    known ? (engine as EngineName) : 'none',
  );
  say(table(judged, base.observations));
  say();
  for (const r of judged.filter((row) => row.gap))
    say(
      `known gap (${engine}) in ${r.case.id}: ${r.case.gaps?.[engine as EngineName]?.why}`,
    );
  const baseBad = baselineCases(CASES).filter(
    (c) => base.observations.get(c.id)?.observed !== 'allowed',
  );
  const failed = judged.filter((r) => !r.ok);
  say(
    `engine: ${engine}; flow exit status ${result.exitCode}; ${judged.length - failed.length}/${judged.length} cases as expected`,
  );
  if (baseBad.length)
    say(
      `TEST NETWORK PROBLEM: without a sandbox these cases were not possible: ${baseBad.map((c) => c.id).join(', ')}`,
    );
  for (const r of failed)
    say(
      `FAIL ${r.case.id}: ${r.case.description}: expected ${r.expected}, observed ${r.observed} (${r.detail})`,
    );
  return failed.length === 0 && baseBad.length === 0 && result.exitCode === 0
    ? 0
    : 1;
}

async function main(): Promise<number> {
  const skip = rootSkipReason(['node']);
  if (skip) {
    process.stderr.write(`demo: cannot run: ${skip}\n`);
    return 2;
  }
  const net = await Testnet.create();
  const stop = () => {
    void net.destroy().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    return await demo(net);
  } finally {
    const failures = await net.destroy();
    say(
      failures.length
        ? `teardown problems: ${failures.join('; ')}`
        : `test network fsbxt${net.id} removed`,
    );
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: ${String(error)}\n`);
    process.exit(1);
  },
);
