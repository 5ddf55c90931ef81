import { SandboxError } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { NetnsPlan } from './plan.js';

/** Argv of the two setup steps and the teardown step, for the plan and the dry run. */
export function netnsArgv(plan: Pick<NetnsPlan, 'netns'>): {
  host: string[];
  sandbox: string[];
  teardown: string[];
} {
  return {
    host: ['ip', '-batch', '-'],
    sandbox: ['ip', '-n', plan.netns, '-batch', '-'],
    teardown: ['ip', '-force', '-batch', '-'],
  };
}

/** Creates the namespace and the veth pair: two processes in all. */
export async function createNetns(
  exec: CommandRunner,
  plan: NetnsPlan,
): Promise<void> {
  const argv = netnsArgv(plan);
  await exec.run(argv.host, { input: plan.hostBatch });
  await exec.run(argv.sandbox, { input: plan.sandboxBatch });
}

// What `ip` says when the object is already gone; teardown must be safe to
// repeat after a partial setup or an earlier cleanup.
const ALREADY_GONE = [
  /Cannot find device/,
  /No such file or directory/,
  /^Command failed -:\d+$/,
];

/**
 * Removes the veth pair and the namespace. Deleting the host end first
 * removes both ends at once; deleting the namespace alone would leave the
 * pair to the kernel's asynchronous namespace cleanup.
 */
export async function removeNetns(
  exec: CommandRunner,
  plan: NetnsPlan,
): Promise<void> {
  const argv = netnsArgv(plan).teardown;
  const result = await exec.run(argv, {
    input: plan.teardownBatch,
    allowFailure: true,
  });
  if (result.exitCode === 0) return;
  const unexpected = result.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !ALREADY_GONE.some((re) => re.test(line)));
  if (unexpected.length > 0) {
    throw new SandboxError(
      'APPLY_FAILED',
      `removing ${plan.netns} failed: ${unexpected.join('; ')}`,
      {
        context: {
          argv,
          exitCode: result.exitCode,
          stderrTail: result.stderr.slice(-2000),
        },
      },
    );
  }
}
