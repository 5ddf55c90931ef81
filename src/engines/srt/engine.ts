import { spawn } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SandboxError } from '../../errors.js';
import { runChild, shellQuote } from '../../exec/child.js';
import { UndoStack } from '../../exec/undo.js';
import type { Engine, EnginePlan, PlanInput } from '../types.js';
import { srtAuditRecorder } from './audit.js';
import { loadSrt, probeSrt } from './probe.js';
import { srtSettings, type SrtSettings } from './settings.js';

/** Settings live in the run's state directory: not /tmp, hidden from the command. */
function settingsPath(input: PlanInput): string {
  return path.join(input.stateDir, 'srt-settings.json');
}

/** Runs SRT's wrapped `true` to prove it can build a sandbox here. */
function proveSandbox(
  wrapped: string,
  env: Record<string, string>,
): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', wrapped], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    child.on('error', (error) => resolve({ ok: false, stderr: error.message }));
    child.on('exit', (code) => resolve({ ok: code === 0, stderr }));
  });
}

/** SRT's mux proxy leaves one socket file per backend in the temp dir. */
async function removeStraySockets(): Promise<void> {
  const dir = os.tmpdir();
  const prefix = `srt-mux-${process.pid}-`;
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(prefix))
      .map((n) => rm(path.join(dir, n), { force: true })),
  );
}

/** Anthropic's Sandbox Runtime, used as a library in this process. */
export const srtEngine: Engine = {
  name: 'srt',
  supportsAudit: true,

  probe: (ctx) => probeSrt(ctx),

  plan(input): EnginePlan {
    const { settings, warnings } = srtSettings(input.policy, [input.stateDir], {
      audit: input.audit,
    });
    return {
      engine: 'srt',
      warnings,
      details: { settingsPath: settingsPath(input), settings },
    };
  },

  async apply(ctx, input, plan, controls) {
    const settings = plan.details.settings as SrtSettings;
    const undo = new UndoStack();
    const { SandboxManager, SandboxRuntimeConfigSchema } = await loadSrt();
    try {
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

      undo.push('srt stray sockets', removeStraySockets);
      undo.push('srt reset', () => SandboxManager.reset());
      const audit = settings.network.strictAllowlist
        ? undefined
        : srtAuditRecorder();
      await SandboxManager.initialize(parsed.data, audit?.ask);

      const proof = await proveSandbox(
        await SandboxManager.wrapWithSandbox('true'),
        input.command.env,
      );
      SandboxManager.cleanupAfterCommand();
      if (!proof.ok) {
        throw new SandboxError(
          'ENGINE_UNAVAILABLE',
          `SRT could not create a sandbox on this host: ${proof.stderr.trim() || 'the probe command failed'}`,
          { context: { step: 'srt probe', stderrTail: proof.stderr } },
        );
      }
      ctx.log.debug('srt sandbox proven', { settings: file });

      if (audit) {
        const stop = audit.watch(SandboxManager.getSandboxViolationStore());
        undo.push('srt audit watch', async () => stop());
      }
      const command = input.command.argv.map(shellQuote).join(' ');
      const wrapped = await SandboxManager.wrapWithSandbox(command);
      const exitCode = await runChild(
        {
          file: '/bin/sh',
          args: ['-c', wrapped],
          cwd: input.command.cwd,
          env: input.command.env,
        },
        controls,
      );
      SandboxManager.cleanupAfterCommand();
      return audit ? { exitCode, audit: audit.observations() } : { exitCode };
    } finally {
      const failures = await undo.unwind(ctx.log);
      if (failures.length)
        ctx.log.warn('SRT teardown was incomplete', { failures });
    }
  },
};
