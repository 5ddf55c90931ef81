import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EXIT_SANDBOX_FAILURE, SandboxError } from '../../errors.js';
import { READY_PREAMBLE, runChild, shellQuote } from '../../exec/child.js';
import { UndoStack } from '../../exec/undo.js';
import { writeOwner } from '../../state/cleanup.js';
import type { Engine, EnginePlan, PlanInput, RunInside } from '../types.js';
import { srtAuditRecorder } from './audit.js';
import { blockedFromViolations } from './violations.js';
import { loadSrt, probeSrt } from './probe.js';
import { srtLaunch } from './launch.js';
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
  const inside = (p: string) => p === root || p.startsWith(`${root}/`);
  const writable = [
    input.command.cwd,
    ...input.policy.filesystem.allowWrite.map((r) => r.path),
  ];
  return writable.some(inside) ? [input.stateDir] : [root];
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

/** SRT's files outside the state directory: bridge and mux sockets. */
async function srtFiles(manager: {
  getLinuxHttpSocketPath(): string | undefined;
  getLinuxSocksSocketPath(): string | undefined;
}): Promise<string[]> {
  const dir = os.tmpdir();
  const bridges = [
    manager.getLinuxHttpSocketPath(),
    manager.getLinuxSocksSocketPath(),
  ];
  return [dir, ...bridges.filter((p): p is string => Boolean(p))];
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

  probe: (ctx, options) => probeSrt(ctx, options),

  plan(input): EnginePlan {
    const { settings, warnings } = srtSettings(
      input.policy,
      hiddenStatePaths(input),
      input.probe.facts ?? {},
      { audit: input.audit },
    );
    const proc = input.probe.facts?.proc === 'private';
    return {
      engine: 'srt',
      warnings,
      details: {
        settingsPath: settingsPath(input),
        settings,
        ...(proc ? { procMount: PRIVATE_PROC_NOTE } : {}),
      },
    };
  },

  async apply(ctx, input, plan, controls, hooks = {}) {
    const settings = plan.details.settings as SrtSettings;
    if (plan.details.procMount) ctx.log.info(String(plan.details.procMount));
    const undo = new UndoStack();
    const { SandboxManager, SandboxRuntimeConfigSchema } = await loadSrt();
    try {
      // SRT puts its sockets and mount sources in the temp directory: one of
      // the run's own, so a killed run's files are found and removed whole.
      const tmp = srtTempDir(input);
      await mkdir(tmp, { recursive: true, mode: 0o700 });
      const previousTmp = process.env.TMPDIR;
      process.env.TMPDIR = tmp;
      undo.push('srt temp directory', async () => {
        if (previousTmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = previousTmp;
        await rm(tmp, { recursive: true, force: true });
      });
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
      // If this controller is killed, `flow-sandbox cleanup` (or the next
      // run) removes SRT's bridge sockets and the socat processes behind them.
      await writeOwner(
        input.stateDir,
        input.runId,
        await srtFiles(SandboxManager),
      );

      // The preamble proves, from inside, that SRT built the sandbox before
      // the job's command starts; without it nothing of the job has run, so
      // falling back to another engine is safe.
      const runInside: RunInside = async (argv) => {
        const inner = await SandboxManager.wrapWithSandbox(
          `${PROXY_WAIT} ${argv.map(shellQuote).join(' ')}`,
        );
        const launch = srtLaunch(inner, input.probe.facts ?? {});
        const result = await ctx.exec.run([launch.file, ...launch.args], {
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

      const command = input.command.argv.map(shellQuote).join(' ');
      const wrapped = await SandboxManager.wrapWithSandbox(
        `${PROXY_WAIT} ${READY_PREAMBLE} exec ${command}`,
      );
      const child = await runChild(
        {
          ...srtLaunch(wrapped, input.probe.facts ?? {}),
          cwd: input.command.cwd,
          env: input.command.env,
          readyPipe: true,
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
