import type { CommandRunner } from '../../exec/runner.js';
import type { LaunchTools } from '../../mounts/launch.js';
import type { ProbeResult } from '../types.js';

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
