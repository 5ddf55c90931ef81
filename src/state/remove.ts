import { readdir, readFile, rm } from 'node:fs/promises';
import type { Context } from '../context.js';
import type { RecordedObject } from '../engines/kernel/state.js';
import { SYSTEM_PATH } from '../engines/kernel/probe.js';
import { withToolPaths } from '../engines/kernel/tools.js';
import { HELPER_VARIABLE, type CommandRunner } from '../exec/runner.js';
import { which } from '../exec/which.js';
import { removeIptablesRules } from '../firewall/apply.js';
import { releaseRunSlots, removeEmptyPool } from '../netns/lease.js';
import { removeCreated } from '../mounts/created.js';
import { restoreForwarding } from '../netns/forwarding.js';
import {
  sysctlMethod,
  sysctlWriter,
  type SysctlWriter,
} from '../netns/sysctl.js';

const TOOLS = ['ip', 'nft', 'iptables', 'ip6tables'] as const;
const RESTORE = ['iptables-restore', 'ip6tables-restore'] as const;

/**
 * The runner with system tools by absolute path: never the job's PATH,
 * where a project's node_modules/.bin may hold an npm package called `nft`.
 * A tool that is missing keeps its bare name and fails when used.
 */
export function systemTools(exec: CommandRunner): CommandRunner {
  const paths: Record<string, string> = {};
  for (const name of [...TOOLS, ...RESTORE]) {
    const found = which(name, SYSTEM_PATH);
    if (found) paths[name] = found;
  }
  return withToolPaths(exec, paths);
}

/**
 * Writes sysctls the way a run does: through a private procfs where
 * /proc/sys is read-only (a job container), else straight.
 */
async function hostSysctlWriter(exec: CommandRunner): Promise<SysctlWriter> {
  const method = await sysctlMethod();
  const tool = (name: string) => which(name, SYSTEM_PATH) ?? name;
  return sysctlWriter({
    method,
    exec,
    tools: { unshare: tool('unshare'), mount: tool('mount'), sh: tool('sh') },
  });
}

/** Kills the processes in a network namespace (a killed run's command). */
async function killNetnsProcesses(exec: CommandRunner, netns: string) {
  const pids = await exec.run(['ip', 'netns', 'pids', netns], {
    allowFailure: true,
  });
  for (const pid of pids.stdout.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/**
 * Removes one recorded object of a dead run; "already gone" is success,
 * and so is "partly gone": the object may be from a step that was cut
 * short.
 */
export async function removeObject(
  ctx: Context,
  object: RecordedObject,
): Promise<void> {
  const exec = systemTools(ctx.exec);
  const quiet = { allowFailure: true };
  switch (object.kind) {
    case 'netns':
      await killNetnsProcesses(exec, object.name);
      await exec.run(['ip', 'netns', 'delete', object.name], quiet);
      return;
    case 'link':
      await exec.run(['ip', 'link', 'delete', object.name], quiet);
      return;
    case 'nft-table': {
      const result = await exec.run(
        ['nft', 'delete', 'table', object.family, object.name],
        quiet,
      );
      if (result.exitCode !== 0 && !/No such file/.test(result.stderr)) {
        throw new Error(
          `nft delete table ${object.name}: ${result.stderr.trim()}`,
        );
      }
      return;
    }
    case 'iptables':
      await removeIptablesRules(exec, object);
      return;
    case 'lease':
      await releaseRunSlots(object.poolDir, object.runId);
      return;
    case 'forwarding':
      await restoreForwarding({
        poolDir: object.poolDir,
        write: await hostSysctlWriter(exec),
      });
      await removeEmptyPool(object.poolDir);
      return;
    case 'files':
      await Promise.all(
        object.paths.map((p) => rm(p, { recursive: true, force: true })),
      );
      return;
    case 'created':
      await removeCreated(object.paths);
      return;
    default: {
      const unknown: never = object;
      throw new Error(`unknown recorded object ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Kills what still works for a dead run: helpers that serve its files
 * (SRT's socat bridges, by their command line) and helper commands it
 * started that outlived it (by the run id in their environment), so none
 * of them adds anything after the cleanup has looked.
 */
export async function killHelpers(
  runId: string,
  files: string[],
): Promise<void> {
  // A helper may fork (socat serves each connection in a child) while the
  // scan runs: scan again until one finds nothing, a few times at most.
  for (let pass = 0; pass < 5; pass++) {
    if ((await killHelpersOnce(runId, files)) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function killHelpersOnce(
  runId: string,
  files: string[],
): Promise<number> {
  const tag = `\0${HELPER_VARIABLE}=${runId}\0`;
  let killed = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const read = (file: string) =>
      readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '');
    const cmdline = files.length ? await read('cmdline') : '';
    const serves = files.some((f) => cmdline.includes(f));
    if (serves || `\0${await read('environ')}`.includes(tag)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
        killed++;
      } catch {
        // Already gone.
      }
    }
  }
  return killed;
}
