// `make demo`: builds the private test network, runs the agent flow once
// without a sandbox (every case must be possible) and once under
// flow-sandbox with the default policy (--force-sandbox, engine auto),
// prints case / expected / observed / OK-FAIL, tears the network down, and
// exits non-zero if any case differs.
//
// `make demo-kernel` (`demo.js --without-srt`) does the same with SRT made
// unavailable (bubblewrap hidden from PATH, as on a runner without it):
// auto must then fall back to the kernel engine, and the job log says why.
import { CASES, type EngineName } from '../integration/cases.js';
import {
  baselineCases,
  chosenEngine,
  compareCases,
  runFlow,
  resultText,
  type CaseResult,
  type Observation,
} from '../integration/flow.js';
import {
  jobEnv,
  pathWithout,
  sandboxWrap,
} from '../integration/sandbox-run.js';
import { rootSkipReason } from '../integration/skip.js';
import { Testnet } from './testnet/testnet.js';
import { OUTSIDE4 } from './testnet/topology.js';

const say = (line = '') => process.stdout.write(`${line}\n`);

const USAGE = 'usage: demo.js [--without-srt]';

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

async function demo(net: Testnet, withoutSrt: boolean): Promise<number> {
  say(
    `Test network fsbxt${net.id}: runner namespace ${net.runnerNs}, instance gitlab.test, HOME ${net.paths.home}`,
  );
  say(
    '1. the agent flow WITHOUT a sandbox (every case must be possible here)...',
  );
  const base = await runFlow(net, { cases: baselineCases(CASES), wrap: [] });

  const unavailable = withoutSrt
    ? ', SRT made unavailable: bwrap hidden from PATH'
    : '';
  say(
    `2. the agent flow under: flow-sandbox run --force-sandbox --selftest (engine auto, default policy)${unavailable}...`,
  );
  const hidden = withoutSrt
    ? { PATH: await pathWithout(net, ['bwrap']) }
    : undefined;
  const { result, observations } = await runFlow(net, {
    cases: CASES,
    // The self-test proves the sandbox before the flow, against the test
    // network's outside host; its table and the end-of-run report are in
    // the job log below.
    wrap: sandboxWrap([
      '--force-sandbox',
      '--selftest',
      '--selftest-address',
      OUTSIDE4,
    ]),
    env: { ...jobEnv(net), ...hidden },
  });
  const engine = chosenEngine(result.stderr);
  // Without SRT, auto must fall back to the kernel engine, not to none.
  const wrongEngine = withoutSrt && engine !== 'kernel';
  say();
  say('flow-sandbox job log:');
  // flow-sandbox's lines, and the indented lines that continue them (the
  // self-test table, the report of what was refused); not the flow's own.
  let continuing = false;
  for (const line of result.stderr.split('\n')) {
    if (line.startsWith('[flow-sandbox]')) continuing = true;
    else if (!(continuing && line.startsWith('  '))) {
      continuing = false;
      continue;
    }
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
  if (wrongEngine)
    say(
      `FAIL: with SRT unavailable auto should pick kernel, it picked ${engine}`,
    );
  if (baseBad.length)
    say(
      `TEST NETWORK PROBLEM: without a sandbox these cases were not possible: ${baseBad.map((c) => c.id).join(', ')}`,
    );
  for (const r of failed)
    say(
      `FAIL ${r.case.id}: ${r.case.description}: expected ${r.expected}, observed ${r.observed} (${r.detail})`,
    );
  const ok =
    failed.length === 0 &&
    baseBad.length === 0 &&
    result.exitCode === 0 &&
    !wrongEngine;
  return ok ? 0 : 1;
}

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--without-srt');
  if (unknown.length) {
    process.stderr.write(`demo: unknown argument ${unknown[0]}; ${USAGE}\n`);
    return 2;
  }
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
    return await demo(net, args.includes('--without-srt'));
  } finally {
    const failures = await net.destroy();
    say(
      failures.length
        ? `teardown problems: ${failures.join('; ')}`
        : `test network fsbxt${net.id} removed`,
    );
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: ${String(error)}\n`);
    process.exit(1);
  },
);
