import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT_SANDBOX_FAILURE, SandboxError } from '../../errors.js';
import { READY_PREAMBLE, runChild, shellQuote } from '../../exec/child.js';
import { UndoStack } from '../../exec/undo.js';
import { writeOwner } from '../../state/owner.js';
import { SRT_SETUP_STEPS } from '../steps.js';
import type { Engine, EnginePlan, PlanInput, RunInside } from '../types.js';
import { srtAuditRecorder } from './audit.js';
import { blockedFromViolations } from './violations.js';
import { loadSrt, probeSrt } from './probe.js';
import { srtSettings, type SrtSettings } from './settings.js';

/**
 * SRT's in-sandbox script starts its proxy listeners (socat on 3128 and
 * 1080) in the background and runs the command at once, so under load a
 * flow's first connection can find nothing listening ("connection
 * refused" from localhost:3128). Wait for both, at most about 5 s, before
 * the command starts. SRT runs the command with bash: /dev/tcp works.
 */
export const PROXY_WAIT =
  'i=0; while [ $i -lt 500 ] && ! { (: </dev/tcp/127.0.0.1/3128) && (: </dev/tcp/127.0.0.1/1080); } 2>/dev/null; do i=$((i+1)); sleep 0.01; done; unset i;';

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
  const inside = (p: string) => p === root || p.startsWith(`${root}/`);
  const writable = [
    input.command.cwd,
    ...input.policy.filesystem.allowWrite.map((r) => r.path),
  ];
  return writable.some(inside) ? [input.stateDir] : [root];
}

/**
 * The shell arguments that start SRT's wrapped command. `exec` makes
 * bubblewrap the controller's own child, so its --die-with-parent ties the
 * sandbox to the controller: a controller killed with SIGKILL takes every
 * process of the sandbox with it instead of leaving them running.
 */
export function shellArgs(wrapped: string): string[] {
  return ['-c', `exec ${wrapped}`];
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
  return path.join(`${path.dirname(input.stateDir)}-srt`, input.runId);
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
      { audit: input.audit },
    );
    return {
      engine: 'srt',
      warnings,
      details: { settingsPath: settingsPath(input), settings },
    };
  },

  async apply(ctx, input, plan, controls, hooks = {}) {
    const settings = plan.details.settings as SrtSettings;
    const step = hooks.setupStep ?? (() => undefined);
    const undo = new UndoStack();
    const { SandboxManager, SandboxRuntimeConfigSchema } = await loadSrt();
    try {
      // SRT puts its sockets and mount sources in the temp directory: one of
      // the run's own, so a killed run's files are found and removed whole.
      // It is recorded first: `flow-sandbox cleanup` (or the next run) then
      // removes it, and kills the socat bridges serving sockets in it, from
      // a controller killed at any point after this.
      const tmp = srtTempDir(input);
      await writeOwner(input.stateDir, input.runId, [tmp]);
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
      step('srt-proxies');

      // The preamble proves, from inside, that SRT built the sandbox before
      // the job's command starts; without it nothing of the job has run, so
      // falling back to another engine is safe.
      const runInside: RunInside = async (argv) => {
        const inner = await SandboxManager.wrapWithSandbox(
          `${PROXY_WAIT} ${argv.map(shellQuote).join(' ')}`,
        );
        const result = await ctx.exec.run(['/bin/sh', ...shellArgs(inner)], {
          allowFailure: true,
          env: input.command.env,
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
        `${PROXY_WAIT} ${READY_PREAMBLE} exec ${command}`,
      );
      const child = await runChild(
        {
          file: '/bin/sh',
          args: shellArgs(wrapped),
          cwd: input.command.cwd,
          env: input.command.env,
          readyPipe: true,
          onReady: () => step('srt-sandbox'),
        },
        controls,
      );
      SandboxManager.cleanupAfterCommand();
      if (!child.ready && !controls.abort.aborted) {
        throw new SandboxError(
          'ENGINE_UNAVAILABLE',
          `SRT could not create a sandbox on this host (status ${child.status} before the command started)`,
          { context: { step: 'srt start', exitCode: child.status } },
        );
      }
      return {
        exitCode: child.status,
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
