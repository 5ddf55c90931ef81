import { which } from '../../src/exec/which.js';

const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

/**
 * Why the kernel engine's root tests cannot run here, or undefined: decided
 * at load time, so a test that cannot run shows as skipped with the reason.
 */
export function kernelSkipReason(
  backend?: 'nft' | 'iptables',
): string | undefined {
  if (process.platform !== 'linux')
    return `needs Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0)
    return 'needs root (network namespaces, nftables, mounts)';
  const tools = [
    'ip',
    'nsenter',
    'unshare',
    'setpriv',
    'mount',
    'curl',
    'dig',
    'socat',
    'perl',
  ];
  if (backend === 'nft') tools.push('nft');
  if (backend === 'iptables')
    tools.push('iptables-restore', 'ip6tables-restore');
  const missing = tools.filter((tool) => !which(tool, PATH));
  return missing.length ? `missing tools: ${missing.join(', ')}` : undefined;
}
