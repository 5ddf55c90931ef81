import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, ratioLine, type Subject } from './bench/measure.js';

// Benchmarks print ratios against baselines measured in the same run;
// they never fail a build on timing.
const root = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../..',
);
const bin = path.join(root, 'bin/flow-sandbox');
const srtCli = createRequire(import.meta.url).resolve(
  '@anthropic-ai/sandbox-runtime/dist/cli.js',
);
const rounds = Number(process.env.BENCH_ROUNDS ?? 15);

const work = mkdtempSync('/var/tmp/fsbx-bench-');
try {
  const settings = path.join(work, 'srt-settings.json');
  // The same settings flow-sandbox generates for the default policy.
  const plan = JSON.parse(
    (await import('node:child_process'))
      .execFileSync(
        bin,
        [
          'run',
          '--dry-run',
          '--json',
          '--force-sandbox',
          '--engine',
          'srt',
          '--',
          'true',
        ],
        { cwd: work, env: { ...process.env, FLOW_SANDBOX_LOG_LEVEL: 'error' } },
      )
      .toString(),
  );
  writeFileSync(settings, JSON.stringify(plan.enginePlan.details.settings));
  const env = { ...process.env, FLOW_SANDBOX_LOG_LEVEL: 'error' } as Record<
    string,
    string
  >;
  const subjects: Subject[] = [
    { name: 'node', argv: [process.execPath, '-e', '0'] },
    {
      name: 'srt',
      argv: [process.execPath, srtCli, '--settings', settings, '--', 'true'],
      cwd: work,
      // The srt command leaves its socket files in TMPDIR: keep them in
      // the bench's own directory, removed at the end.
      env: { ...process.env, TMPDIR: work } as Record<string, string>,
    },
    {
      name: 'fsbx-srt',
      // --minimum-level: a fallback to no sandbox fails, never measures as fast.
      argv: [
        bin,
        'run',
        '--force-sandbox',
        '--minimum-level',
        'srt',
        '--engine',
        'srt',
        '--',
        'true',
      ],
      env,
      cwd: work,
    },
  ];
  const m = compare(subjects, rounds);
  const ms = (n: string) => m.get(n)!;
  console.log(
    `flow-sandbox benchmark: medians of ${rounds} interleaved runs each`,
  );
  for (const [name, value] of m)
    console.log(`  ${name.padEnd(10)} ${value.toFixed(1)} ms`);
  console.log('');
  console.log(
    ratioLine(
      'run --engine srt -- true  /  srt --settings F -- true',
      ms('fsbx-srt') / ms('srt'),
      { max: 1.1 },
    ),
  );
  console.log(
    ratioLine(
      'run --engine srt -- true  /  node -e 0',
      ms('fsbx-srt') / ms('node'),
      {},
    ),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
