import type { Context } from '../../context.js';
import type { ProbeCheck, ProbeResult } from '../types.js';

const FIX =
  'install bubblewrap, socat and ripgrep, and allow user namespaces (kernel.unprivileged_userns_clone=1, or run the job container with CAP_SYS_ADMIN and seccomp=unconfined); see https://docs.gitlab.com/runner/configuration/ for runner settings';

/** The SRT library, loaded only when the SRT engine is considered. */
export async function loadSrt() {
  return import('@anthropic-ai/sandbox-runtime');
}

/**
 * Checks SRT's prerequisites without starting its proxies: its own
 * dependency check, then bubblewrap creating (and dropping) namespaces,
 * which leaves nothing behind on the host.
 */
export async function probeSrt(ctx: Context): Promise<ProbeResult> {
  const checks: ProbeCheck[] = [];
  const { SandboxManager } = await loadSrt();
  const platform = SandboxManager.isSupportedPlatform();
  checks.push({
    name: 'platform',
    ok: platform,
    detail: platform
      ? process.platform
      : `${process.platform} is not supported by SRT`,
  });
  const deps = SandboxManager.checkDependencies({ command: 'rg' });
  for (const error of deps.errors) {
    checks.push({ name: 'dependency', ok: false, detail: error, fix: FIX });
  }
  for (const warning of deps.warnings) {
    checks.push({
      name: 'dependency',
      ok: true,
      detail: `warning: ${warning}`,
    });
  }
  if (deps.errors.length === 0) {
    checks.push(await probeBubblewrap(ctx));
  }
  return { engine: 'srt', usable: checks.every((c) => c.ok), checks };
}

async function probeBubblewrap(ctx: Context): Promise<ProbeCheck> {
  const argv = [
    'bwrap',
    '--unshare-all',
    '--die-with-parent',
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    'true',
  ];
  try {
    const result = await ctx.exec.run(argv, {
      allowFailure: true,
      timeoutMs: 10_000,
    });
    if (result.exitCode === 0) {
      return {
        name: 'namespaces',
        ok: true,
        detail: 'bubblewrap can create user, mount, PID and network namespaces',
      };
    }
    return {
      name: 'namespaces',
      ok: false,
      detail: `bubblewrap cannot create namespaces: ${result.stderr.trim().split('\n').pop() ?? `status ${result.exitCode}`}`,
      fix: FIX,
    };
  } catch (error) {
    return {
      name: 'namespaces',
      ok: false,
      detail: `bubblewrap could not be started: ${(error as Error).message}`,
      fix: FIX,
    };
  }
}
