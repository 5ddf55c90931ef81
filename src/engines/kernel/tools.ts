import type { CommandRunner } from '../../exec/runner.js';
import type { LaunchTools } from '../../mounts/launch.js';
import type { ProbeResult } from '../types.js';
import { FIREWALL_TOOLS, REQUIRED_TOOLS } from './probe.js';

/** Program name to absolute path, as the probe found them. */
export type ToolPaths = Record<string, string>;

/** The tool paths a probe found; a tool it did not find keeps its bare name. */
export function toolPaths(probe: ProbeResult): ToolPaths {
  const paths: ToolPaths = {};
  for (const name of [
    ...REQUIRED_TOOLS,
    ...FIREWALL_TOOLS,
    'iptables',
    'ip6tables',
  ]) {
    const check = probe.checks.find((c) => c.name === name);
    paths[name] =
      check?.ok && check.detail.startsWith('/') ? check.detail : name;
  }
  // iptables and iptables-restore live side by side.
  for (const family of ['iptables', 'ip6tables']) {
    const restore = paths[`${family}-restore`]!;
    if (restore.startsWith('/'))
      paths[family] = restore.replace(/-restore$/, '');
  }
  return paths;
}

/** The launch tools out of the probed paths. */
export function launchTools(paths: ToolPaths): LaunchTools {
  const get = (name: string) => paths[name] ?? name;
  return {
    setpriv: get('setpriv'),
    nsenter: get('nsenter'),
    unshare: get('unshare'),
    mount: get('mount'),
    sh: get('sh'),
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
      const resolved =
        first !== undefined && paths[first] ? paths[first] : first;
      return exec.run(
        resolved === undefined ? argv : [resolved, ...rest],
        options,
      );
    },
  };
}
