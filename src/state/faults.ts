import { appendFileSync } from 'node:fs';
import { ALL_SETUP_STEPS, type StepReached } from '../engines/steps.js';
import { invalidInput } from '../errors.js';

/** Test only: SIGKILL the controller right after this setup step. */
export const KILL_AT_VARIABLE = 'FLOW_SANDBOX_TEST_KILL_AT';
/** Test only: append the name of every setup step passed to this file. */
export const STEP_LOG_VARIABLE = 'FLOW_SANDBOX_TEST_STEP_LOG';

/**
 * The fault-injection hook of the crash-safety tests
 * (integration/faults.test.ts), or undefined when neither test-only
 * variable is set, which is how a runner must run it. It kills the
 * controller the way an OOM killer or a cancelled job would, after the
 * named step has recorded and created its objects.
 */
export function faultHook(
  env: Record<string, string | undefined>,
): StepReached | undefined {
  const killAt = env[KILL_AT_VARIABLE];
  const log = env[STEP_LOG_VARIABLE];
  if (!killAt && !log) return undefined;
  if (killAt && !ALL_SETUP_STEPS.includes(killAt as never)) {
    throw invalidInput(
      'USAGE',
      KILL_AT_VARIABLE,
      killAt,
      `one of ${ALL_SETUP_STEPS.join(', ')}`,
      'a test-only variable; never set it on a runner',
    );
  }
  return (step) => {
    // Synchronous: the line is on disk before the kill below.
    if (log) appendFileSync(log, `${step}\n`);
    if (step === killAt) process.kill(process.pid, 'SIGKILL');
  };
}
