// Kernel engine benchmarks, as ratios against baselines measured in the
// same run. Everything runs inside a private test network (a runner and a
// world namespace, see integration/kernel/testbed.ts): no traffic leaves
// namespaces this script creates. Needs root; prints, never fails a build.
//
//   node dist/scripts/bench-kernel.js            (BENCH_ROUNDS=15 by default)
//   BENCH_KERNEL_ONLY=entries node dist/scripts/bench-kernel.js
//     runs only the named sections (startup, entries, stages, throughput,
//     lookups)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOSTS, Testbed } from '../integration/kernel/testbed.js';
import { compare, median, ratioLine, type Subject } from './bench/measure.js';
import { policyStages, STAGES } from './bench/policy-stages.js';

const root = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../..',
);
const bin = path.join(root, 'bin/flow-sandbox');
const FLOOR_SCRIPT = path.join(root, 'scripts/bench/kernel-floor.sh');
const ENTRIES_FLOOR = path.join(root, 'scripts/bench/entries-floor.sh');
const rounds = Number(process.env.BENCH_ROUNDS ?? 15);

interface Inner {
  dir: string;
  rounds: number;
  /** Comma-separated section keys to run (BENCH_KERNEL_ONLY); all when unset. */
  only?: string;
}

// A sandboxed subject must run its engine or fail: a fallback to no
// sandbox would be measured as a fast sandbox.
function cli(extra: string[], argv: string[]): string[] {
  const engine = extra[extra.indexOf('--engine') + 1];
  const minimum =
    engine === 'srt' || engine === 'kernel' ? ['--minimum-level', engine] : [];
  return [bin, 'run', '--force-sandbox', ...minimum, ...extra, '--', ...argv];
}

function env(dir: string): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    FLOW_SANDBOX_LOG_LEVEL: 'error',
    FLOW_SANDBOX_STATE_DIR: path.join(dir, 'state'),
  };
}

/** n distinct test addresses (198.19.0.0/16: never routed anywhere). */
function addresses(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) => `198.19.${(i >> 8) & 255}.${i & 255}`,
  );
}

/**
 * A policy file with n IP allow entries (the costly kind: firewall
 * elements), in YAML as people write it, or in JSON as tools may.
 */
function allowFile(dir: string, n: number, json = false): string {
  const file = path.join(dir, `allow-${n}.${json ? 'json' : 'yml'}`);
  const entries = addresses(n);
  writeFileSync(
    file,
    json
      ? JSON.stringify({ network: { allow: entries } }, null, 2)
      : `network:\n  allow:\n${entries.map((e) => `    - ${e}`).join('\n')}\n`,
  );
  return file;
}

function startup(inner: Inner): string[] {
  const e = env(inner.dir);
  const subjects: Subject[] = [
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    {
      name: 'none',
      argv: cli(['--engine', 'none'], ['true']),
      env: e,
      cwd: inner.dir,
    },
    {
      name: 'srt',
      argv: cli(['--engine', 'srt'], ['true']),
      env: e,
      cwd: inner.dir,
    },
    {
      name: 'kernel',
      argv: cli(['--engine', 'kernel'], ['true']),
      env: e,
      cwd: inner.dir,
    },
    // The same kernel objects made by the tools alone (no node at all).
    { name: 'tools alone', argv: ['sh', FLOOR_SCRIPT] },
  ];
  const m = compare(subjects, inner.rounds);
  const ms = (n: string) => m.get(n)!;
  return [
    ...[...m].map(
      ([name, value]) => `  ${name.padEnd(12)} ${value.toFixed(1)} ms`,
    ),
    `  kernel engine's own share (kernel - none): ${(ms('kernel') - ms('none')).toFixed(1)} ms`,
    // The least any controller in node could reach: node's start plus
    // what the tools need; the targets below are judged against it.
    `  floor (node -e 0 + tools alone): ${(ms('node -e 0') + ms('tools alone')).toFixed(1)} ms = ${((ms('node -e 0') + ms('tools alone')) / ms('srt')).toFixed(3)} of srt, ${((ms('node -e 0') + ms('tools alone')) / ms('node -e 0')).toFixed(3)} of node -e 0`,
    ratioLine(
      'run --engine kernel -- true  /  run --engine srt -- true',
      ms('kernel') / ms('srt'),
      { max: 0.35 },
    ),
    ratioLine(
      'run --engine kernel -- true  /  node -e 0',
      ms('kernel') / ms('node -e 0'),
      { max: 1.7 },
    ),
  ];
}

/** The addresses of allowFile(dir, n), one per line, for nft alone. */
function addressFile(dir: string, n: number): string {
  const file = path.join(dir, `addresses-${n}.txt`);
  writeFileSync(file, `${addresses(n).join('\n')}\n`);
  return file;
}

// What reading a policy file costs at the least: its parser alone, in a
// fresh node (the library flow-sandbox parses YAML with).
const PARSE_ALONE =
  "require('js-yaml').loadAll(require('fs').readFileSync(process.argv[1], 'utf8'), { maxAliases: 100 })";

function allowEntries(inner: Inner): string[] {
  const e = env(inner.dir);
  const files: Array<[string, string]> = [
    ...[10, 1_000, 10_000].map((n): [string, string] => [
      `${n} entries`,
      allowFile(inner.dir, n),
    ]),
    ['10000 as JSON', allowFile(inner.dir, 10_000, true)],
  ];
  const subjects: Subject[] = files.map(([name, file]) => ({
    name,
    argv: cli(['--engine', 'kernel', '--config', file], ['true']),
    env: e,
    cwd: inner.dir,
  }));
  // The floor beside them: nft loading a set of as many addresses, and
  // the YAML parser reading the file, each alone.
  for (const n of [10, 10_000]) {
    subjects.push(
      {
        name: `nft alone ${n}`,
        argv: ['sh', ENTRIES_FLOOR, addressFile(inner.dir, n)],
      },
      {
        name: `parse alone ${n}`,
        argv: [process.execPath, '-e', PARSE_ALONE, allowFile(inner.dir, n)],
        cwd: root,
      },
    );
  }
  const m = compare(subjects, Math.max(5, Math.floor(inner.rounds / 2)));
  const base = m.get('10 entries')!;
  const extra = (what: string) =>
    m.get(`${what} 10000`)! - m.get(`${what} 10`)!;
  return [
    ...files.map(
      ([name]) =>
        `  ${name.padEnd(16)} ${m.get(name)!.toFixed(1)} ms (+${(m.get(name)! - base).toFixed(1)} ms over 10)`,
    ),
    `  floor for 10,000 entries over 10 (tools alone): nft set load +${extra('nft alone').toFixed(1)} ms, YAML parse +${extra('parse alone').toFixed(1)} ms, together +${(extra('nft alone') + extra('parse alone')).toFixed(1)} ms`,
    ratioLine(
      'setup with 10,000 IP entries minus 10 (ms)',
      m.get('10000 entries')! - base,
      { max: 30 },
    ),
    ratioLine(
      'the same, the policy file in JSON (ms)',
      m.get('10000 as JSON')! - base,
      { max: 30 },
    ),
  ];
}

/** The policy share of the entries' cost, stage by stage (cold processes). */
function stages(inner: Inner): string[] {
  const sizes = [10, 1_000, 10_000];
  const rounds = Math.max(5, Math.floor(inner.rounds / 2));
  const m = sizes.map((n) => policyStages(allowFile(inner.dir, n), rounds));
  const cell = (v: number) => v.toFixed(1).padStart(9);
  const rows = STAGES.map(
    (stage) =>
      `  ${stage.padEnd(12)}${m.map((x) => cell(x[stage])).join('')}${cell(m[2]![stage] - m[0]![stage])}`,
  );
  const total = (x: Record<string, number>) =>
    Object.values(x).reduce((a, b) => a + b, 0);
  return [
    `  ${'ms'.padEnd(12)}${sizes.map((n) => `${n}`.padStart(9)).join('')}${'10k-10'.padStart(9)}`,
    ...rows,
    `  ${'total'.padEnd(12)}${m.map((x) => cell(total(x))).join('')}${cell(total(m[2]!) - total(m[0]!))}`,
  ];
}

function speed(argv: string[], e?: Record<string, string>): number {
  const out = execFileSync(argv[0]!, argv.slice(1), { env: e }).toString();
  return Number(/speed=([\d.]+)/.exec(out)?.[1]);
}

function throughput(inner: Inner): string[] {
  const url = `http://${HOSTS.gitlab}/bytes/300000000`;
  const curl = [
    'curl',
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    'speed=%{speed_download}\n',
    url,
  ];
  const e = env(inner.dir);
  const sandboxed: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    direct.push(speed(curl));
    sandboxed.push(
      speed(cli(['--engine', 'kernel', '--allow', HOSTS.gitlab], curl), e),
    );
  }
  const [s, d] = [median(sandboxed), median(direct)];
  return [
    `  direct ${(d / 1e6).toFixed(0)} MB/s, through the sandbox ${(s / 1e6).toFixed(0)} MB/s`,
    ratioLine('download through the sandbox  /  direct', s / d, { min: 0.9 }),
  ];
}

// Node in the sandbox asks the system resolver (flow-sandbox's) N times;
// the baseline asks the test DNS server directly from the runner.
const LOOKUPS = `
const dns = require('node:dns');
const r = new dns.promises.Resolver();
r.setServers([process.argv[1]]);
(async () => {
  const times = [];
  for (let i = 0; i < 200; i++) {
    const t = process.hrtime.bigint();
    await r.resolve4('gitlab.test');
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log('median=' + times[100]);
})();
`;

function lookups(inner: Inner): string[] {
  const e = env(inner.dir);
  const direct = execFileSync(process.execPath, [
    '-e',
    LOOKUPS,
    HOSTS.dns,
  ]).toString();
  const server = "$(sed -n 's/^nameserver //p' /etc/resolv.conf | head -n1)";
  const inside = execFileSync(
    bin,
    [
      'run',
      '--force-sandbox',
      '--minimum-level',
      'kernel',
      '--engine',
      'kernel',
      '--allow',
      'gitlab.test',
      '--',
      'sh',
      '-c',
      `exec "$0" -e "$1" "${server}"`,
      process.execPath,
      LOOKUPS,
    ],
    { env: e, cwd: inner.dir },
  ).toString();
  const [d, s] = [direct, inside].map((out) =>
    Number(/median=([\d.]+)/.exec(out)?.[1]),
  );
  return [
    `  median lookup: direct ${d!.toFixed(3)} ms, through the resolver ${s!.toFixed(3)} ms`,
    ratioLine(
      'allowed DNS lookup through the resolver  /  direct',
      s! / d!,
      {},
    ),
  ];
}

function runInner(inner: Inner): void {
  const sections: Array<[string, string, (i: Inner) => string[]]> = [
    ['startup', 'start-up (medians of interleaved runs)', startup],
    ['entries', 'setup time by number of allow entries', allowEntries],
    ['stages', 'policy stages by number of allow entries (medians)', stages],
    ['throughput', 'download throughput (300 MB, medians of 5)', throughput],
    ['lookups', 'DNS lookups (median of 200)', lookups],
  ];
  const only = inner.only?.split(',').map((s) => s.trim());
  console.log(`kernel engine benchmark (${inner.rounds} rounds)`);
  for (const [key, title, fn] of sections) {
    if (only && !only.includes(key)) continue;
    console.log(`\n${title}:`);
    try {
      for (const line of fn(inner)) console.log(line);
    } catch (error) {
      console.log(`  failed: ${(error as Error).message.split('\n')[0]}`);
    }
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--inner') {
    runInner(JSON.parse(process.argv[3]!) as Inner);
    return;
  }
  if (process.getuid?.() !== 0) {
    console.log('bench-kernel: needs root (network namespaces); skipped');
    return;
  }
  const testbed = new Testbed();
  try {
    await testbed.start();
    mkdirSync(path.join(testbed.dir, 'state'), { recursive: true });
    // The runner namespace gets the test DNS server and hosts file, as a
    // CI job container would have its own.
    const hadNetnsEtc = existsSync('/etc/netns');
    const etc = `/etc/netns/${testbed.runner}`;
    mkdirSync(etc, { recursive: true });
    writeFileSync(path.join(etc, 'resolv.conf'), `nameserver ${HOSTS.dns}\n`);
    try {
      const inner: Inner = {
        dir: testbed.dir,
        rounds,
        only: process.env.BENCH_KERNEL_ONLY || undefined,
      };
      const result = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          testbed.runner,
          process.execPath,
          fileURLToPath(import.meta.url),
          '--inner',
          JSON.stringify(inner),
        ],
        {
          stdio: 'inherit',
          cwd: testbed.dir,
        },
      );
      if (result.status !== 0)
        console.log(`bench-kernel: inner run ended with ${result.status}`);
    } finally {
      rmSync(hadNetnsEtc ? etc : '/etc/netns', {
        recursive: true,
        force: true,
      });
    }
  } finally {
    await testbed.stop();
  }
}

await main();
