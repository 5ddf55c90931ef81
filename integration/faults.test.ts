// Crash safety: the controller is killed with SIGKILL right after each
// setup step of each engine (srt, kernel with nft, kernel with iptables),
// through the test-only FLOW_SANDBOX_TEST_KILL_AT hook. After
// `flow-sandbox cleanup`, and separately after the next run alone, the
// runner's namespaces, links, rulesets, forwarding settings, mounts,
// processes, /tmp and state are exactly as before. The steps come from the
// engines themselves, and a normal run must pass exactly those steps, so a
// new step cannot go untested. Root only; each engine gets its own test
// network and runner view, and the three run side by side.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { engineByName } from '../src/engines/select.js';
import { RUN_SETUP_STEPS } from '../src/engines/steps.js';
import type { EngineName } from '../src/engines/types.js';
import { KILL_AT_VARIABLE, STEP_LOG_VARIABLE } from '../src/state/faults.js';
import { Testnet } from '../scripts/testnet/testnet.js';
import { kernelSkipReason } from './kernel/skip.js';
import { RunnerView, stateDifferences, type HostState } from './runner-view.js';
import { FLOW_SANDBOX } from './sandbox-run.js';
import { rootSkipReason } from './skip.js';

interface Lane {
  title: string;
  engine: EngineName;
  flags: string[];
  skip: string | undefined;
}

const LANES: Lane[] = [
  {
    title: 'srt',
    engine: 'srt',
    flags: [],
    skip: rootSkipReason(['bwrap', 'socat', 'rg']),
  },
  {
    title: 'kernel with nft',
    engine: 'kernel',
    flags: ['--firewall', 'nft'],
    skip: kernelSkipReason('nft'),
  },
  {
    title: 'kernel with iptables',
    engine: 'kernel',
    flags: ['--firewall', 'iptables'],
    skip: kernelSkipReason('iptables'),
  },
];

/** One engine's test network, view, state root, and the runs it starts. */
class Harness {
  readonly marker = `fsbxt-fault-${randomBytes(4).toString('hex')}`;

  private constructor(
    readonly lane: Lane,
    readonly net: Testnet,
    readonly view: RunnerView,
  ) {}

  static async start(lane: Lane): Promise<Harness> {
    const net = await Testnet.create();
    try {
      return new Harness(lane, net, await RunnerView.start(net));
    } catch (error) {
      await net.destroy();
      throw error;
    }
  }

  get root(): string {
    return path.join(this.net.paths.base, 'faults-state');
  }

  /** `flow-sandbox run` for this lane's engine; `kill` names the step to die at. */
  run(command: string[], env: Record<string, string> = {}) {
    const { engine, flags } = this.lane;
    return this.view.exec(
      [
        FLOW_SANDBOX,
        'run',
        '--force-sandbox',
        '--engine',
        engine,
        '--minimum-level',
        engine,
        ...flags,
        '--',
        ...command,
      ],
      { env: { FLOW_SANDBOX_STATE_DIR: this.root, ...env } },
    );
  }

  /** A run killed after `step`; its command would outlive it if it could. */
  killedAt(step: string) {
    const command = ['sh', '-c', `sleep 30; : ${this.marker}`];
    return this.run(command, { [KILL_AT_VARIABLE]: step });
  }

  cleanup() {
    return this.view.exec([FLOW_SANDBOX, 'cleanup'], {
      env: { FLOW_SANDBOX_STATE_DIR: this.root },
    });
  }

  snapshot(): Promise<HostState> {
    return this.view.snapshot([this.root, `${this.root}-srt`], this.marker);
  }

  /** What a failed test left goes too: killed runs' helpers outlive namespaces. */
  async stop(): Promise<void> {
    await this.cleanup();
    await this.view.stop();
    const failures = await this.net.destroy();
    if (failures.length) throw new Error(failures.join('; '));
  }
}

for (const lane of LANES) {
  const name = [
    `${lane.title}: SIGKILL after every setup step;`,
    'cleanup, and the next run alone, leave the host as it was',
  ].join(' ');
  if (lane.skip) {
    test.skip(`${name} (skipped: ${lane.skip})`, () => {});
    continue;
  }
  test(name, async (t) => {
    const h = await Harness.start(lane);
    t.teardown(() => h.stop());
    const steps = [...RUN_SETUP_STEPS, ...engineByName(lane.engine).setupSteps];

    // A normal run passes exactly the steps the engine lists. It also
    // makes what every run keeps: the state root and SRT's temp root.
    const log = path.join(h.net.paths.base, 'steps.log');
    const normal = await h.run(['true'], { [STEP_LOG_VARIABLE]: log });
    t.is(normal.exitCode, 0, normal.stderr);
    const passed = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
    t.deepEqual([...passed].sort(), [...steps].sort(), 'steps passed');
    const before = await h.snapshot();

    for (const step of steps) {
      const killed = await h.killedAt(step);
      t.is(killed.signal, 'SIGKILL', `${step}: ${killed.stderr}`);
      const left = stateDifferences(before, await h.snapshot());
      t.not(left.length, 0, `${step}: the killed run left something`);

      const cleanup = await h.cleanup();
      t.is(cleanup.exitCode, 0, `${step}: ${cleanup.stderr}`);
      t.deepEqual(
        stateDifferences(before, await h.snapshot()),
        [],
        `${step}: after cleanup (the killed run left: ${left.join('; ')})`,
      );

      const again = await h.killedAt(step);
      t.is(again.signal, 'SIGKILL', `${step}: ${again.stderr}`);
      const next = await h.run(['true']);
      t.is(next.exitCode, 0, `${step}: ${next.stderr}`);
      t.regex(next.stderr, /removed what 1 killed run\(s\) left behind/);
      t.deepEqual(
        stateDifferences(before, await h.snapshot()),
        [],
        `${step}: after the next run`,
      );
    }
  });
}
