// Twenty runs at once on one runner, mixing engines (srt, kernel with nft,
// kernel with iptables) and policies (--allow, --config, names, a wildcard,
// an address), each probing a host its policy allows and one that only
// another run's policy allows. Each must see only its own verdicts (in its
// output, in what the test hosts saw, in its report) and exit with its own
// status. Two killed runs wait to be swept, so twenty sweeps race for them:
// each is removed exactly once, and afterwards the runner is exactly as
// before. Root only; traffic stays on the private test network.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KILL_AT_VARIABLE } from '../src/state/faults.js';
import { Testnet } from '../scripts/testnet/testnet.js';
import { GITLAB2_4 } from '../scripts/testnet/topology.js';
import { kernelSkipReason } from './kernel/skip.js';
import { RunnerView, stateDifferences } from './runner-view.js';
import { FLOW_SANDBOX } from './sandbox-run.js';
import { rootSkipReason } from './skip.js';

const RUNS = 20;

const KERNEL = ['--engine', 'kernel', '--minimum-level', 'kernel'];
const ENGINES = [
  { name: 'srt', flags: ['--engine', 'srt', '--minimum-level', 'srt'] },
  { name: 'kernel/nft', flags: [...KERNEL, '--firewall', 'nft'] },
  { name: 'kernel/iptables', flags: [...KERNEL, '--firewall', 'iptables'] },
];

/**
 * Policies in a ring: each one's `other` is the next one's `own`, so every
 * refusal is of a host that a run going on at the same time allows.
 */
const POLICIES = [
  {
    name: 'name',
    allow: 'gitlab.test',
    own: 'gitlab.test',
    other: 'outside.test',
  },
  {
    name: 'other-name',
    allow: 'outside.test',
    own: 'outside.test',
    other: 'evil.test',
  },
  {
    name: 'config',
    config: 'evil.test',
    own: 'evil.test',
    other: 'api.gitlab.test',
  },
  {
    name: 'wildcard',
    config: '"*.gitlab.test"',
    own: 'api.gitlab.test',
    other: GITLAB2_4,
  },
  // SRT cannot allow an address: kernel runs only.
  {
    name: 'address',
    allow: GITLAB2_4,
    own: GITLAB2_4,
    other: 'gitlab.test',
    kernelOnly: true,
  },
];
const TARGETS = new Set(POLICIES.map((p) => p.own));

interface Run {
  index: number;
  engine: (typeof ENGINES)[number];
  policy: (typeof POLICIES)[number];
  status: number;
  report: string;
}

function plan(base: string): Run[] {
  return Array.from({ length: RUNS }, (_, index) => {
    const engine = ENGINES[index % ENGINES.length]!;
    let policy = POLICIES[index % POLICIES.length]!;
    if (policy.kernelOnly && engine.name === 'srt') policy = POLICIES[0]!;
    const report = path.join(base, `concurrent-report-${index}.json`);
    return { index, engine, policy, status: 100 + index, report };
  });
}

function workOf(net: Testnet, run: Run): string {
  return path.join(net.paths.base, `work-${run.index}`);
}

// Prints both verdicts, then exits with the run's own status. curl is
// bounded (-m 5); the paths name the run, so the hosts' logs show whose
// request reached them.
function probe(run: Run, marker: string): string[] {
  const url = (host: string, what: string) =>
    `http://${host}/fsbxc-${run.index}-${what}`;
  const get = (host: string, what: string) =>
    `$(curl -s -m 5 -o /dev/null -w '%{http_code}' ${url(host, what)})`;
  return [
    'sh',
    '-c',
    [
      `echo "own=${get(run.policy.own, 'own')}`,
      `other=${get(run.policy.other, 'other')}";`,
      `exit ${run.status}; : ${marker}`,
    ].join(' '),
  ];
}

const skip =
  rootSkipReason(['bwrap', 'socat', 'rg']) ??
  kernelSkipReason('nft') ??
  kernelSkipReason('iptables');

if (skip) {
  test.skip(`${RUNS} runs at once (skipped: ${skip})`, () => {});
} else {
  const title = [
    `${RUNS} runs at once, mixed engines and policies:`,
    'each sees only its own verdicts and status; nothing is left',
  ].join(' ');
  test(title, async (t) => {
    const net = await Testnet.create();
    const view = await RunnerView.start(net).catch(async (error) => {
      await net.destroy();
      throw error;
    });
    const root = path.join(net.paths.base, 'concurrent-state');
    const env = { FLOW_SANDBOX_STATE_DIR: root };
    t.teardown(async () => {
      // What a failed test left goes too: killed runs' helpers outlive
      // their namespaces.
      await view.exec([FLOW_SANDBOX, 'cleanup'], { env });
      await view.stop();
      const failures = await net.destroy();
      if (failures.length) throw new Error(failures.join('; '));
    });
    const marker = `fsbxt-conc-${randomBytes(4).toString('hex')}`;
    const start = (
      flags: string[],
      command: string[],
      options: { env?: Record<string, string>; cwd?: string } = {},
    ) =>
      view.exec(
        [FLOW_SANDBOX, 'run', '--force-sandbox', ...flags, '--', ...command],
        {
          env: { ...env, ...options.env },
          cwd: options.cwd,
          timeoutMs: 120_000,
        },
      );
    const snapshot = () => view.snapshot([root, `${root}-srt`], marker);

    for (const policy of POLICIES.filter((p) => p.config)) {
      await writeFile(
        path.join(net.paths.base, `${policy.name}.yml`),
        `network:\n  allow: [${policy.config}]\n`,
      );
    }
    // What every run keeps (the state root, SRT's temp root) exists first.
    for (const engine of ENGINES) {
      const warm = await start(engine.flags, ['true']);
      t.is(warm.exitCode, 0, warm.stderr);
    }
    const before = await snapshot();

    // Two runs killed mid-setup, for the twenty to sweep; started together,
    // so that neither sweeps the other first (counted below if it did).
    const sleeper = ['sh', '-c', `sleep 30; : ${marker}`];
    const killed = await Promise.all(
      (
        [
          [ENGINES[0]!, 'srt-proxies'],
          [ENGINES[1]!, 'kernel-resolver'],
        ] as const
      ).map(([engine, step]) =>
        start(engine.flags, sleeper, { env: { [KILL_AT_VARIABLE]: step } }),
      ),
    );
    for (const run of killed) t.is(run.signal, 'SIGKILL', run.stderr);

    // Each in a checkout of its own, as CI jobs are: SRT's bubblewrap makes
    // placeholders for protected paths in the working directory, and runs
    // sharing one remove each other's (see README, limits).
    const runs = plan(net.paths.base);
    for (const run of runs) await mkdir(workOf(net, run), { recursive: true });
    const results = await Promise.all(
      runs.map((run) => {
        const { policy, engine } = run;
        const flags = [
          ...engine.flags,
          ...(policy.allow ? ['--allow', policy.allow] : []),
          ...(policy.config
            ? ['--config', path.join(net.paths.base, `${policy.name}.yml`)]
            : []),
          '--report',
          run.report,
        ];
        return start(flags, probe(run, marker), { cwd: workOf(net, run) });
      }),
    );

    const seen = (await net.events('gl'))
      .concat(await net.events('out'))
      .filter((e) => e.kind === 'http')
      .map((e) => e.name ?? '');
    let sweeps = 0;
    for (const result of [...killed, ...results]) {
      for (const swept of result.stderr.matchAll(
        /removed what (\d+) killed run/g,
      ))
        sweeps += Number(swept[1]);
    }
    for (const [i, run] of runs.entries()) {
      const result = results[i]!;
      const label = `run ${i} (${run.engine.name}, ${run.policy.name})`;
      t.is(result.exitCode, run.status, `${label}: ${result.stderr}`);
      const verdicts = /^own=(\d+) other=(\d+)$/.exec(result.stdout.trim());
      t.is(verdicts?.[1], '200', `${label}: own host: ${result.stdout}`);
      t.not(verdicts?.[2], '200', `${label}: other host: ${result.stdout}`);
      t.true(
        seen.includes(`${run.policy.own}/fsbxc-${i}-own`),
        `${label}: own request arrived`,
      );
      t.false(
        seen.includes(`${run.policy.other}/fsbxc-${i}-other`),
        `${label}: refused request arrived`,
      );
      t.false(
        /cleanup of a killed run failed/.test(result.stderr),
        result.stderr,
      );

      const report = JSON.parse(await readFile(run.report, 'utf8')) as {
        exitCode: number;
        engine: string;
        blocked: {
          names: { name: string }[];
          destinations: { host: string }[];
        };
      };
      t.is(report.exitCode, run.status, label);
      t.is(report.engine, run.engine.name.split('/')[0]!);
      const refused = [
        ...report.blocked.names.map((n) => n.name),
        ...report.blocked.destinations.map((d) => d.host),
      ].filter((host) => TARGETS.has(host));
      t.deepEqual(
        refused.filter((host) => host !== run.policy.other),
        [],
        `${label}: no other run's refusals`,
      );
      // The iptables backend counts refused packets in total only.
      if (
        run.engine.name !== 'kernel/iptables' ||
        !/^\d/.test(run.policy.other)
      ) {
        t.true(
          refused.includes(run.policy.other),
          `${label}: its refusal is reported`,
        );
      }
    }
    t.is(sweeps, 2, 'each killed run is swept by exactly one run');
    t.deepEqual(stateDifferences(before, await snapshot()), []);
  });
}
