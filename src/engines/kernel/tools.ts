import type { CommandRunner } from '../../exec/runner.js';
import type { LaunchTools } from '../../mounts/launch.js';
import { which } from '../../exec/which.js';
import type { ProbeResult } from '../types.js';
import { FIREWALL_TOOLS, REQUIRED_TOOLS, SYSTEM_PATH } from './probe.js';

/** Program name to absolute path, as the probe found them. */
export type ToolPaths = Record<string, string>;

/** The probe's tool paths; iptables sits beside iptables-restore. */
export function toolPaths(probe: ProbeResult): ToolPaths {
  const paths: ToolPaths = { ...probe.facts };
  for (const family of ['iptables', 'ip6tables']) {
    const restore = paths[`${family}-restore`];
    if (restore) paths[family] = restore.replace(/-restore$/, '');
  }
  return paths;
}

/** The launch tools; a tool the probe did not find keeps its bare name. */
export function launchTools(paths: ToolPaths): LaunchTools {
  const get = (name: string) => paths[name] ?? name;
  return {
    setpriv: get('setpriv'),
    nsenter: get('nsenter'),
    unshare: get('unshare'),
    mount: get('mount'),
    sh: get('sh'),
    env: get('env'),
  };
}

/**
 * A runner that starts the probed programs by absolute path: a CI job's
 * PATH often lacks the sbin directories where ip and nft live.
 */
export function withToolPaths(
  exec: CommandRunner,
  paths: ToolPaths,
): CommandRunner {
  return {
    run(argv, options) {
      const [first, ...rest] = argv;
      const resolved = first !== undefined ? paths[first] : undefined;
      return exec.run(resolved ? [resolved, ...rest] : argv, options);
    },
  };
}

/**
 * The engine's programs from the system directories alone, for steps that
 * run without a probe (cleaning up after a killed run): never from PATH,
 * where a project's node_modules/.bin may hold a program called nft.
 */
export function systemToolPaths(): ToolPaths {
  const paths: ToolPaths = {};
  for (const name of [
    ...REQUIRED_TOOLS,
    ...FIREWALL_TOOLS,
    'iptables',
    'ip6tables',
  ]) {
    const found = which(name, SYSTEM_PATH);
    if (found) paths[name] = found;
  }
  return paths;
}
