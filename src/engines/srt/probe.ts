import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Context } from '../../context.js';
import { shellQuote } from '../../exec/child.js';
import { which } from '../../exec/which.js';
import { SYSTEM_PATH } from '../kernel/probe.js';
import type { ProbeCheck, ProbeOptions, ProbeResult } from '../types.js';
import { srtLaunch } from './launch.js';
import { probeProc } from './proc.js';

const FIX =
  'install bubblewrap, socat and ripgrep, and allow user namespaces (kernel.unprivileged_userns_clone=1, or run the job container with CAP_SYS_ADMIN and seccomp=unconfined); see https://docs.gitlab.com/runner/configuration/advanced-configuration/#the-runnersdocker-section';

/** Binaries SRT needs on Linux, by the fact name the plan reads. */
const BINARIES = { bwrap: 'bwrap', socat: 'socat', rg: 'rg' } as const;

let loading:
  Promise<typeof import('@anthropic-ai/sandbox-runtime')> | undefined;

/**
 * The SRT library, loaded once and only when the SRT engine is considered.
 * The run flow calls this early so that loading overlaps policy work.
 */
export function loadSrt() {
  loading ??= import('@anthropic-ai/sandbox-runtime');
  return loading;
}

/** SRT's prebuilt helpers are per architecture, under these names. */
const SECCOMP_ARCH: Record<string, string> = { x64: 'x64', arm64: 'arm64' };

/**
 * A file SRT ships in its package's vendor directory, if it is there.
 * SRT looks for these beside its own files; inside flow-sandbox's bundle
 * those are elsewhere, so flow-sandbox finds them and hands SRT the paths.
 */
function srtVendorFile(...parts: string[]): string | undefined {
  try {
    const entry = createRequire(import.meta.url).resolve(
      '@anthropic-ai/sandbox-runtime',
    );
    const file = path.join(path.dirname(entry), '..', 'vendor', ...parts);
    accessSync(file, constants.R_OK);
    return path.normalize(file);
  } catch {
    return undefined;
  }
}

/**
 * SRT's apply-seccomp helper, which blocks the Unix sockets the policy
 * does not allow. Where SRT finds none it runs with every Unix socket
 * open and only a warning, so a missing one is a missing prerequisite.
 */
export function findApplySeccomp(
  arch: string = process.arch,
): string | undefined {
  const dir = SECCOMP_ARCH[arch];
  const helper = dir
    ? srtVendorFile('seccomp', dir, 'apply-seccomp')
    : undefined;
  try {
    if (helper) accessSync(helper, constants.X_OK);
    return helper;
  } catch {
    return undefined;
  }
}

/**
 * SRT's proxy agent for Java (JVMs ignore HTTPS_PROXY). Optional: without
 * it Java clients get no network, as any client that ignores the proxy.
 * Not finding it, SRT would ask `npm root -g` on every run (~300 ms).
 */
export function findJavaAgent(): string | undefined {
  return srtVendorFile('java-proxy-agent', 'srt-proxy-agent.jar');
}

/**
 * Checks SRT's prerequisites without starting its proxies: the binaries it
 * needs, then bubblewrap creating (and dropping) namespaces, which leaves
 * nothing behind. `deep` also asks SRT itself and starts a throw-away
 * sandbox (doctor only: it starts proxies).
 */
export async function probeSrt(
  ctx: Context,
  { deep, quick }: ProbeOptions,
): Promise<ProbeResult> {
  const checks: ProbeCheck[] = [];
  const facts: Record<string, string> = {};
  const linux = process.platform === 'linux';
  checks.push({
    name: 'platform',
    ok: linux,
    detail: linux
      ? 'linux'
      : `${process.platform}: flow-sandbox drives SRT on Linux only`,
  });
  for (const [fact, binary] of Object.entries(BINARIES)) {
    const found = which(binary, ctx.env.PATH);
    if (found) facts[fact] = found;
    checks.push(
      found
        ? { name: binary, ok: true, detail: found }
        : {
            name: binary,
            ok: false,
            detail: `${binary} not found on PATH`,
            fix: FIX,
          },
    );
  }
  const helper = linux ? findApplySeccomp() : undefined;
  if (helper) facts.applySeccomp = helper;
  const javaAgent = findJavaAgent();
  if (javaAgent) facts.javaAgent = javaAgent;
  checks.push(
    helper
      ? { name: 'apply-seccomp', ok: true, detail: helper }
      : {
          name: 'apply-seccomp',
          ok: false,
          detail: `SRT's apply-seccomp helper for ${process.arch} was not found in @anthropic-ai/sandbox-runtime (without it SRT leaves every Unix socket open)`,
          fix: "reinstall flow-sandbox's npm packages (npm ci); SRT ships the helper for x64 and arm64 only",
        },
  );
  // Docker's masked /proc is found by reading mountinfo, before any run:
  // it decides how bubblewrap is started.
  const proc = await probeProc();
  checks.push(proc.check);
  Object.assign(facts, proc.facts);
  // Bubblewrap starts in an IPC namespace of its own and a mount namespace
  // without the runner's namespace handles (launch.ts).
  const unshare = linux ? which('unshare', SYSTEM_PATH) : undefined;
  const umount = linux ? which('umount', SYSTEM_PATH) : undefined;
  if (unshare) facts.unshare ??= unshare;
  if (umount) facts.umount ??= umount;
  checks.push(
    unshare && umount
      ? { name: 'unshare', ok: true, detail: `${unshare}, ${umount}` }
      : {
          name: 'unshare',
          ok: false,
          detail: `${unshare ? 'umount' : 'unshare'} not found in ${SYSTEM_PATH} (bubblewrap starts in an IPC namespace of its own, with the runner's network namespace handles detached)`,
          fix: `install ${unshare ? 'mount' : 'util-linux'}`,
        },
  );
  // A run proves namespaces from inside the sandbox before the command
  // starts (the ready pipe), so only dry runs and doctor probe them here.
  if (facts.bwrap && proc.check.ok && !quick)
    checks.push(await probeNamespaces(ctx, facts));
  if (deep && checks.every((c) => c.ok))
    checks.push(...(await probeLibrary(facts)));
  return { engine: 'srt', usable: checks.every((c) => c.ok), checks, facts };
}

async function probeNamespaces(
  ctx: Context,
  facts: Record<string, string>,
): Promise<ProbeCheck> {
  const bwrap = [
    facts.bwrap!,
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
  const launch = srtLaunch(bwrap.map(shellQuote).join(' '), facts);
  try {
    const result = await ctx.exec.run([launch.file, ...launch.args], {
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
    const why =
      result.stderr.trim().split('\n').pop() || `status ${result.exitCode}`;
    return {
      name: 'namespaces',
      ok: false,
      detail: `bubblewrap cannot create namespaces: ${why}`,
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

/** SRT's own dependency check and a real sandboxed `true`. */
async function probeLibrary(
  facts: Record<string, string>,
): Promise<ProbeCheck[]> {
  const { SandboxManager } = await loadSrt();
  const deps = SandboxManager.checkDependencies({ command: facts.rg ?? 'rg' });
  const checks: ProbeCheck[] = [
    ...deps.errors.map((detail) => ({
      name: 'srt dependencies',
      ok: false,
      detail,
      fix: FIX,
    })),
    // SRT looks for apply-seccomp beside its own files; flow-sandbox
    // found it (the apply-seccomp check) and hands SRT the path.
    ...deps.warnings
      .filter((w) => !(facts.applySeccomp && /seccomp not available/.test(w)))
      .map((detail) => ({
        name: 'srt dependencies',
        ok: true,
        detail: `warning: ${detail}`,
      })),
  ];
  if (deps.errors.length) return checks;
  try {
    await SandboxManager.initialize({
      network: { allowedDomains: [], deniedDomains: [], strictAllowlist: true },
      filesystem: { denyRead: [], allowWrite: [], denyWrite: [] },
      bwrapPath: facts.bwrap,
      socatPath: facts.socat,
      ...(facts.applySeccomp
        ? { seccomp: { applyPath: facts.applySeccomp } }
        : {}),
      ...(facts.javaAgent ? { javaAgentJarPath: facts.javaAgent } : {}),
    });
    const launch = srtLaunch(
      await SandboxManager.wrapWithSandbox('true'),
      facts,
    );
    execFileSync(launch.file, launch.args, {
      stdio: 'ignore',
      timeout: 20_000,
    });
    checks.push({
      name: 'srt sandbox',
      ok: true,
      detail: 'SRT started its proxies and ran a command in a sandbox',
    });
  } catch (error) {
    checks.push({
      name: 'srt sandbox',
      ok: false,
      detail: `SRT could not run a sandboxed command: ${(error as Error).message}`,
      fix: FIX,
    });
  } finally {
    await SandboxManager.reset();
  }
  return checks;
}
