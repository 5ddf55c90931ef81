import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT_SANDBOX_FAILURE, SandboxError } from '../../errors.js';
import { READY_PREAMBLE, runChild, shellQuote } from '../../exec/child.js';
import { launchEnv, RESTORE_JOB_ENV } from '../../exec/jobenv.js';
import { UndoStack } from '../../exec/undo.js';
import { srtTempRoot } from '../../state/dir.js';
import { writeOwner } from '../../state/owner.js';
import { SRT_SETUP_STEPS } from '../steps.js';
import type { Engine, EnginePlan, PlanInput, RunInside } from '../types.js';
import { planSockets, type SocketPlan } from '../../mounts/plan.js';
import { srtAuditRecorder } from './audit.js';
import { createdWarnings, removeCreated } from '../../mounts/created.js';
import { absentProtectedPaths } from '../../mounts/protected.js';
import { watchHeld } from './held.js';
import { completeSettings, hiddenSocketsCheck } from './runtime.js';
import { blockedFromViolations } from './violations.js';
import { loadSrt, probeSrt } from './probe.js';
import { srtLaunch } from './launch.js';
import { srtSettings, type SrtSettings } from './settings.js';

/**
 * SRT's in-sandbox script starts its proxy listeners (socat on 3128 and
 * 1080) in the background and runs the command at once, so under load a
 * flow's first connection can find nothing listening ("connection
 * refused" from localhost:3128). Wait for both before the command starts.
 * SRT runs the command with bash, so /dev/tcp works, and a redirection on
 * the `:` builtin tries a connection without starting a process: the
 * first 2000 refused tries (a few milliseconds, while socat starts) spin,
 * then each try waits 10 ms, about 5 s in all, before the command starts
 * anyway (its own connection then fails as it would have). The names are
 * the shell's own, so a job variable called `i` or `p` is left alone.
 */
export const PROXY_WAIT =
  'fsbx_i=0; for fsbx_p in 3128 1080; do until : </dev/tcp/127.0.0.1/$fsbx_p; do fsbx_i=$((fsbx_i+1)); if [ $fsbx_i -gt 2000 ]; then [ $fsbx_i -lt 2500 ] || break; sleep 0.01; fi; done 2>/dev/null; done; unset fsbx_i fsbx_p;';

/** What the plan and the job log say when bubblewrap needs an unmasked /proc. */
export const PRIVATE_PROC_NOTE =
  "/proc is masked here (a job container): bubblewrap starts in a private mount namespace over a fresh, unmasked /proc (unshare --mount, mount -t proc), which lets it mount the sandbox's own /proc; the sandbox sees bubblewrap's /proc, as on a host, not Docker's masked one, and the container's /proc is untouched";

/** Settings live in the run's state directory: not /tmp, hidden from the command. */
function settingsPath(input: PlanInput): string {
  return path.join(input.stateDir, 'srt-settings.json');
}

/**
 * What of flow-sandbox's state the command must not see: the whole state
 * root, so that no run (this one or a concurrent one) shows its settings,
 * unless the root holds a path the command may write (an odd
 * FLOW_SANDBOX_STATE_DIR); then this run's directory alone.
 */
export function hiddenStatePaths(input: PlanInput): string[] {
  const root = path.dirname(input.stateDir);
  if (root === path.parse(root).root) return [input.stateDir];
  const writable = [
    input.command.cwd,
    ...input.policy.filesystem.allowWrite.map((r) => r.path),
  ];
  const holdsWritable = (dir: string) =>
    writable.some((p) => p === dir || p.startsWith(`${dir}/`));
  // Every SRT run's bridge sockets live below the SRT root: another run's
  // lead to that run's proxies, and so to its policy. This run's own
  // directory is shown again (allowRead): its socat bridges need it.
  const srtRoot = srtTempRoot(root);
  return [
    holdsWritable(root) ? input.stateDir : root,
    ...(holdsWritable(srtRoot) ? [] : [srtRoot]),
  ];
}

/** The violation lines SRT's proxies recorded in this process. */
function violationLines(manager: {
  getSandboxViolationStore(): { getViolations(): Array<{ line: string }> };
}): string[] {
  return manager
    .getSandboxViolationStore()
    .getViolations()
    .map((v) => v.line);
}

/** The run's temp directory for SRT: beside the state root, not inside it
 * (the state root is hidden from the sandbox; SRT's bridge sockets must not be). */
function srtTempDir(input: PlanInput): string {
  return path.join(srtTempRoot(path.dirname(input.stateDir)), input.runId);
}

/** Anthropic's Sandbox Runtime, used as a library in this process. */
export const srtEngine: Engine = {
  name: 'srt',
  supportsAudit: true,
  setupSteps: SRT_SETUP_STEPS,

  probe: (ctx, options) => probeSrt(ctx, options),

  plan(input): EnginePlan {
    const { settings, warnings } = srtSettings(
      input.policy,
      hiddenStatePaths(input),
      input.probe.facts ?? {},
      { audit: input.audit, ownTemp: srtTempDir(input) },
    );
    const sockets = planSockets(
      input.policy,
      input.command.env.HOME ?? '/root',
    );
    // Every socket is open under SRT only to reach the listed ones: the
    // others found when the run starts are masked (see runtime.ts).
    const socketMasks =
      settings.network.allowAllUnixSockets && sockets.hide
        ? sockets
        : undefined;
    const proc = input.probe.facts?.proc === 'private';
    return {
      engine: 'srt',
      warnings,
      details: {
        settingsPath: settingsPath(input),
        settings,
        ...(socketMasks ? { socketMasks } : {}),
        ...(proc ? { procMount: PRIVATE_PROC_NOTE } : {}),
      },
    };
  },

  async apply(ctx, input, plan, controls, hooks = {}) {
    const step = hooks.setupStep ?? (() => undefined);
    if (plan.details.procMount) ctx.log.info(String(plan.details.procMount));
    const undo = new UndoStack();
    const { SandboxManager, SandboxRuntimeConfigSchema } = await loadSrt();
    try {
      // SRT puts its sockets and mount sources in the temp directory: one of
      // the run's own, so a killed run's files are found and removed whole.
      // It is recorded first: `flow-sandbox cleanup` (or the next run) then
      // removes it, and kills the socat bridges serving sockets in it, from
      // a controller killed at any point after this.
      const tmp = srtTempDir(input);
      // Bubblewrap also makes empty placeholders in the working directory
      // for protected paths that do not exist yet; SRT removes them when
      // the command ends, the cleanup does for a killed run.
      const { settings, mustHide, absent } = await completeSettings(
        plan.details.settings as SrtSettings,
        input.command.cwd,
        plan.details.socketMasks as SocketPlan | undefined,
      );
      await writeOwner(
        input.stateDir,
        input.runId,
        [tmp],
        await absentProtectedPaths(input.command.cwd),
        absent,
      );
      // What the command creates where protected paths were absent goes
      // when it has ended (bound before the sandbox exists: registered now).
      undo.push('remove protected paths the command created', async () => {
        const result = await removeCreated(absent);
        for (const warning of createdWarnings(result)) ctx.log.warn(warning);
      });
      await mkdir(tmp, { recursive: true, mode: 0o700 });
      const previousTmp = process.env.TMPDIR;
      process.env.TMPDIR = tmp;
      undo.push('srt temp directory', async () => {
        if (previousTmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = previousTmp;
        await rm(tmp, { recursive: true, force: true });
      });
      step('srt-temp-dir');
      const parsed = SandboxRuntimeConfigSchema.safeParse(settings);
      if (!parsed.success) {
        throw new SandboxError(
          'APPLY_FAILED',
          `SRT refused the settings flow-sandbox generated: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      }
      const file = settingsPath(input);
      await writeFile(file, JSON.stringify(settings, null, 2), { mode: 0o600 });
      undo.push('srt settings file', () => rm(file, { force: true }));
      step('srt-settings');

      undo.push('srt reset', () => SandboxManager.reset());
      const audit = settings.network.strictAllowlist
        ? undefined
        : srtAuditRecorder();
      try {
        await SandboxManager.initialize(parsed.data, audit?.ask);
      } catch (error) {
        // Nothing of the job ran yet: another engine may still take it.
        throw new SandboxError(
          'ENGINE_UNAVAILABLE',
          `SRT could not start: ${(error as Error).message}`,
          { cause: error, context: { step: 'srt initialize' } },
        );
      }
      ctx.log.debug('srt proxies started');
      step('srt-proxies');

      // The preamble proves, from inside, that SRT built the sandbox before
      // the job's command starts; without it nothing of the job has run, so
      // falling back to another engine is safe.
      const runInside: RunInside = async (argv) => {
        const inner = await SandboxManager.wrapWithSandbox(
          `${PROXY_WAIT} ${RESTORE_JOB_ENV} ${argv.map(shellQuote).join(' ')}`,
        );
        const launch = srtLaunch(inner, input.probe.facts ?? {});
        const result = await ctx.exec.run([launch.file, ...launch.args], {
          allowFailure: true,
          env: launchEnv(input.command.env),
          cwd: input.command.cwd,
          timeoutMs: 60_000,
        });
        SandboxManager.cleanupAfterCommand();
        return {
          status: result.exitCode,
          stdout: result.stdout,
          stderr: result.stderr,
        };
      };
      if (hooks.beforeCommand && !(await hooks.beforeCommand(runInside))) {
        return {
          exitCode: EXIT_SANDBOX_FAILURE,
          blocked: blockedFromViolations(violationLines(SandboxManager)),
        };
      }
      // The self-test's refusals are not the job's.
      SandboxManager.getSandboxViolationStore().clear();
      if (audit) {
        // Only the job's own traffic is audited: the self-test above ran
        // under enforcement.
        const stop = audit.watch(SandboxManager.getSandboxViolationStore());
        undo.push('srt audit watch', async () => stop());
        audit.start();
      }

      // TODO(#5): concurrent SRT runs in one working directory remove each
      // other's bubblewrap placeholders for absent protected paths (SRT
      // counts its sandboxes per process): the other run's bubblewrap fails
      // to start (closed), or a running sandbox loses that path's write
      // protection. CI jobs each have a checkout of their own.
      const command = input.command.argv.map(shellQuote).join(' ');
      const wrapped = await SandboxManager.wrapWithSandbox(
        `${PROXY_WAIT} ${hiddenSocketsCheck(mustHide)} ${READY_PREAMBLE} ${RESTORE_JOB_ENV} exec ${command}`,
      );
      ctx.log.debug('srt sandbox command built');
      let heldStatus: number | undefined;
      const child = await runChild(
        {
          ...srtLaunch(wrapped, input.probe.facts ?? {}),
          cwd: input.command.cwd,
          env: launchEnv(input.command.env),
          readyPipe: true,
          onReady: (bwrap) => {
            step('srt-sandbox');
            return watchHeld(bwrap, (status) => {
              ctx.log.warn(
                `the command ended with the sandbox's init stopped (ptrace): the sandbox and what it left running are killed; ${status === undefined ? "the command's exit status went with the stopped init (reported as killed, 137)" : `the command's exit status was ${status}`}`,
              );
              heldStatus = status;
              process.kill(bwrap, 'SIGKILL');
            });
          },
        },
        controls,
      );
      ctx.log.debug('srt sandbox exited', { status: child.status });
      SandboxManager.cleanupAfterCommand();
      if (!child.ready && !controls.abort.aborted) {
        throw new SandboxError(
          'ENGINE_UNAVAILABLE',
          `SRT could not create a sandbox on this host (status ${child.status} before the command started)`,
          { context: { step: 'srt start', exitCode: child.status } },
        );
      }
      return {
        exitCode: heldStatus ?? child.status,
        blocked: blockedFromViolations(violationLines(SandboxManager)),
        ...(audit ? { audit: audit.observations() } : {}),
      };
    } finally {
      const failures = await undo.unwind(ctx.log);
      if (failures.length)
        ctx.log.warn('SRT teardown was incomplete', { failures });
    }
  },
};
