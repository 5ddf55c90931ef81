// Sandboxed runs the escape tests keep alive in the background: another
// job's run next to the one under attack, and a run whose controller is
// killed. Found again by the markers in their argv.
import { readFile } from 'node:fs/promises';
import type { NetExecResult } from '../scripts/testnet/exec.js';
import type { Testnet } from '../scripts/testnet/testnet.js';
import { pidsMarked } from './escape-checks.js';
import { listing, runSandboxed, stateDirOf } from './sandbox-run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A command that lives about five minutes and names `marker` in its argv. */
export function sleeper(marker: string): string[] {
  return ['python3', '-c', 'import time; time.sleep(300)', marker];
}

/** Polls `probe` every 100 ms for up to `ms`; true once it holds. */
export async function waitFor(
  probe: () => Promise<boolean>,
  ms: number,
): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 100) {
    if (await probe()) return true;
    await sleep(100);
  }
  return probe();
}

async function argvOf(pid: number): Promise<string[]> {
  const text = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return text.split('\0');
}

/** True while the sleeper itself (not only a wrapper naming it) runs. */
export async function sleeperAlive(marker: string): Promise<boolean> {
  for (const pid of await pidsMarked(marker)) {
    const argv = await argvOf(pid);
    if (/python3$/.test(argv[0] ?? '') && argv.includes(marker)) return true;
  }
  return false;
}

/**
 * The flow-sandbox controller whose argv names `marker`: node running
 * bin/flow-sandbox's start-up snapshot, its bundle or its tsc output.
 */
export async function controllerPid(
  marker: string,
): Promise<number | undefined> {
  for (const pid of await pidsMarked(marker)) {
    const argv = await argvOf(pid);
    if (
      /(^|\/)node$/.test(argv[0] ?? '') &&
      argv.some((a) =>
        /(bin\/flow-sandbox|flow-sandbox\.(blob|cjs)|cli\/entry\.js)$/.test(a),
      )
    )
      return pid;
  }
  return undefined;
}

/** A sandboxed run of `sleeper(marker)` in the background, up once its command runs. */
export async function startBackgroundRun(
  net: Testnet,
  options: readonly string[],
  marker: string,
  env: Record<string, string> = {},
): Promise<{ done: Promise<NetExecResult>; controller: number }> {
  const statesBefore = await listing(stateDirOf(net));
  const done = runSandboxed(net, options, sleeper(marker), env);
  const up = await waitFor(() => sleeperAlive(marker), 30_000);
  const controller = await controllerPid(marker);
  if (!up || controller === undefined) {
    const result = await Promise.race([
      done,
      sleep(1000).then(() => undefined),
    ]);
    throw new Error(
      `background run ${marker} did not come up: ${result?.stderr ?? 'still starting'}`,
    );
  }
  const statesNow = await listing(stateDirOf(net));
  if (statesNow.length <= statesBefore.length)
    throw new Error(`background run ${marker} made no state directory`);
  return { done, controller };
}
