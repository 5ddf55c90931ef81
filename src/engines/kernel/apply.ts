import { constants } from 'node:os';
import type { Context } from '../../context.js';
import {
  describeError,
  EXIT_SANDBOX_FAILURE,
  SandboxError,
} from '../../errors.js';
import { runChild } from '../../exec/child.js';
import { launchEnv } from '../../exec/jobenv.js';
import { tagHelpers, type CommandRunner } from '../../exec/runner.js';
import { UndoStack } from '../../exec/undo.js';
import type {
  ApplyControls,
  ApplyHooks,
  PlanInput,
  RunInside,
  RunOutcome,
} from '../types.js';
import { Aborted, establish, type Established } from './establish.js';
import type { KernelOptions } from './options.js';
import { blockedReport } from './report.js';
import { toolPaths, withToolPaths } from './tools.js';

/** What an aborted run returns: 128 + the signal's number, as a shell would. */
function abortStatus(controls: ApplyControls): number {
  return 128 + (constants.signals[controls.abortSignal() ?? 'SIGTERM'] ?? 15);
}

/** The launch argv with another command in place of the job's. */
function launchFor(
  sandbox: Established,
  input: PlanInput,
  argv: string[],
): string[] {
  const launch = sandbox.plan.command.argv;
  return [
    ...launch.slice(0, launch.length - input.command.argv.length),
    ...argv,
  ];
}

/** Runs a command (the self-test) inside the applied sandbox, output captured. */
function runInside(
  exec: CommandRunner,
  sandbox: Established,
  input: PlanInput,
): RunInside {
  return async (argv) => {
    const [file, ...args] = launchFor(sandbox, input, argv);
    const result = await exec.run([file!, ...args], {
      allowFailure: true,
      env: launchEnv(input.command.env),
      timeoutMs: 60_000,
    });
    return {
      status: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
    };
  };
}

/**
 * A setup failure: nothing of the job ran, so the run flow may try the
 * next engine. Errors from the command's own phase are not wrapped.
 */
function unavailable(error: unknown): SandboxError {
  if (error instanceof SandboxError && error.code === 'ENGINE_UNAVAILABLE') {
    return error;
  }
  return new SandboxError(
    'ENGINE_UNAVAILABLE',
    `the kernel sandbox could not be set up: ${describeError(error)}`,
    {
      cause: error,
      context: error instanceof SandboxError ? error.context : {},
    },
  );
}

/**
 * Sets up the run's namespaces, firewall and resolver, runs the command,
 * and tears everything down again, whatever happens.
 */
export async function applyKernel(
  ctx: Context,
  input: PlanInput,
  kernel: KernelOptions,
  controls: ApplyControls,
  hooks: ApplyHooks,
): Promise<RunOutcome> {
  const exec = tagHelpers(
    withToolPaths(ctx.exec, toolPaths(input.probe)),
    input.runId,
  );
  const undo = new UndoStack();
  const step = hooks.setupStep ?? (() => undefined);
  try {
    let sandbox: Established;
    try {
      sandbox = await establish({
        ctx,
        exec,
        input,
        kernel,
        controls,
        undo,
        step,
      });
    } catch (error) {
      if (error instanceof Aborted) return { exitCode: abortStatus(controls) };
      throw unavailable(error);
    }
    const blocked = () => blockedReport(exec, sandbox.plan, sandbox.resolver);
    if (
      hooks.beforeCommand &&
      !(await hooks.beforeCommand(runInside(exec, sandbox, input)))
    ) {
      return { exitCode: EXIT_SANDBOX_FAILURE, blocked: await blocked() };
    }
    const [file, ...args] = sandbox.plan.command.argv;
    const child = await runChild(
      {
        file: file!,
        args,
        cwd: input.command.cwd,
        env: launchEnv(input.command.env),
        readyPipe: true,
        onReady: () => step('kernel-sandbox'),
      },
      controls,
    ).catch((error: unknown) => {
      throw unavailable(error);
    });
    if (!child.ready && !controls.abort.aborted) {
      throw unavailable(
        new Error(
          `the sandbox's filesystem view could not be set up (launcher status ${child.status}; see the mount errors above); the command did not run`,
        ),
      );
    }
    return {
      exitCode: controls.abort.aborted ? abortStatus(controls) : child.status,
      blocked: await blocked(),
    };
  } finally {
    // The command's status (or the setup error) stands; what could not be
    // removed is logged and stays in the state record for the cleanup.
    const failures = await undo.unwind(ctx.log);
    if (failures.length > 0) {
      ctx.log.error(
        'kernel sandbox teardown incomplete; run `flow-sandbox cleanup` to remove what is left',
        { failures, stateDir: input.stateDir },
      );
    }
  }
}
