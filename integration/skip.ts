import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const BASE_TOOLS = [
  'ip',
  'nsenter',
  'unshare',
  'mount',
  'git',
  'curl',
  'python3',
  'nft',
  'iptables-save',
];

function missing(tools: readonly string[]): string[] {
  return tools.filter((tool) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

/** True inside a Docker or Podman container (a job container). */
export function inContainer(): boolean {
  return ['/.dockerenv', '/run/.containerenv'].some((f) => existsSync(f));
}

/**
 * Why a root-only integration test cannot run here, or undefined if it
 * can: decided once at load time, so the test shows as skipped with the
 * reason instead of passing.
 */
export function rootSkipReason(
  extraTools: readonly string[] = [],
): string | undefined {
  if (process.platform !== 'linux')
    return `needs Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0)
    return 'needs root (network namespaces, mounts)';
  const absent = missing([...BASE_TOOLS, ...extraTools]);
  if (absent.length) return `missing tools: ${absent.join(', ')}`;
  return undefined;
}
