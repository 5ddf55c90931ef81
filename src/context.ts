import { createCommandRunner, type CommandRunner } from './exec/runner.js';
import type { Logger } from './log/logger.js';

/** Everything with side effects, passed in so planners and tests stay pure. */
export interface Context {
  exec: CommandRunner;
  log: Logger;
  env: Record<string, string | undefined>;
  /** The controller's working directory (the job's checkout). */
  cwd: string;
}

/** The context for a real run on this host. */
export function hostContext(log: Logger): Context {
  return {
    exec: createCommandRunner(),
    log,
    env: { ...process.env },
    cwd: process.cwd(),
  };
}
