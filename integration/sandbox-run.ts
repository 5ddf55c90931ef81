import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import {
  HARNESS_TMP_ENTRIES,
  type NetExecResult,
} from '../scripts/testnet/exec.js';
import { SAFE_PATH } from '../scripts/testnet/files.js';
import type { Testnet } from '../scripts/testnet/testnet.js';
import { INSTANCE_HOST } from '../scripts/testnet/topology.js';
import { REPO_ROOT } from './flow.js';

/** The CLI under test (needs `npx tsc -p .` first). */
export const FLOW_SANDBOX = path.join(REPO_ROOT, 'bin/flow-sandbox');

/** flow-sandbox's state directory for runs in this network (not /run). */
export function stateDirOf(net: Testnet): string {
  return path.join(net.paths.base, 'state');
}

/** The job environment: the instance is gitlab.test; state stays ours. */
export function jobEnv(net: Testnet): Record<string, string> {
  return {
    CI_SERVER_HOST: INSTANCE_HOST,
    FLOW_SANDBOX_STATE_DIR: stateDirOf(net),
  };
}

/** The argv prefix `flow-sandbox run OPTIONS --` for a flow run. */
export function sandboxWrap(options: readonly string[]): string[] {
  return [FLOW_SANDBOX, 'run', ...options, '--'];
}

/**
 * Runs `flow-sandbox run OPTIONS -- COMMAND` in the test network's runner,
 * with CI_SERVER_HOST=gitlab.test, the fake HOME and the work dir.
 */
export function runSandboxed(
  net: Testnet,
  options: readonly string[],
  command: readonly string[],
  env: Record<string, string> = {},
): Promise<NetExecResult> {
  return net.exec([...sandboxWrap(options), ...command], {
    env: { ...jobEnv(net), ...env },
  });
}

/**
 * A PATH directory holding links to every system tool except `hidden`
 * (e.g. bwrap), so an engine's dependency check fails as on a host where
 * the tool is not installed.
 */
export async function pathWithout(
  net: Testnet,
  hidden: readonly string[],
): Promise<string> {
  const dir = path.join(net.paths.base, `path-without-${hidden.join('-')}`);
  if (existsSync(dir)) return dir;
  await mkdir(dir, { recursive: true });
  const seen = new Set<string>();
  for (const source of SAFE_PATH.split(':')) {
    const names = await readdir(source).catch(() => [] as string[]);
    for (const name of names) {
      if (hidden.includes(name) || seen.has(name)) continue;
      seen.add(name);
      await symlink(path.join(source, name), path.join(dir, name));
    }
  }
  return dir;
}

/** A directory's entries, sorted; empty when it does not exist. */
export async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** What a run left in the network's private /tmp, less the harness's own. */
export async function tmpLeftovers(net: Testnet): Promise<string[]> {
  const entries = await listing(net.paths.tmp);
  return entries.filter((e) => !HARNESS_TMP_ENTRIES.includes(e));
}
