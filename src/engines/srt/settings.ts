import { formatRule } from '../../policy/types.js';
import type { AddressRule, NetworkRule, Policy } from '../../policy/types.js';
import { namesThisHost } from '../../policy/match.js';
import { RuleIndex } from '../../policy/rule-index.js';

/** The subset of SRT's SandboxRuntimeConfig that flow-sandbox sets. */
export interface SrtSettings {
  network: {
    allowedDomains: string[];
    deniedDomains: string[];
    deniedResolvedAddresses: string[];
    /** False only in audit mode: SRT then asks our callback about unlisted hosts. */
    strictAllowlist: boolean;
    allowUnixSockets: string[];
    allowAllUnixSockets: boolean;
    allowLocalBinding: boolean;
  };
  filesystem: {
    denyRead: string[];
    /** Shown again inside a denied path: this run's own SRT directory. */
    allowRead?: string[];
    allowWrite: string[];
    denyWrite: string[];
    allowGitConfig: boolean;
  };
  /** Absolute paths found by the probe, so SRT does not look them up again. */
  bwrapPath?: string;
  socatPath?: string;
  ripgrep?: { command: string };
  seccomp?: { applyPath: string };
  javaAgentJarPath?: string;
}

const isSingle = (r: AddressRule) => r.prefix === (r.family === 4 ? 32 : 128);

/** SRT wants IPv6 literals bracketed, with or without a port. */
function srtEntry(rule: NetworkRule): string {
  if (rule.kind === 'address' && rule.family === 6 && isSingle(rule)) {
    return `[${rule.address}]${rule.port === undefined ? '' : `:${rule.port}`}`;
  }
  return formatRule(rule);
}

/** Warnings of one kind shown one by one; a long list ends in a count. */
const SHOWN_PER_KIND = 5;

/**
 * Maps the policy onto SRT settings. Returns the rules SRT cannot express
 * as warnings; each is mapped to the narrower side unless SRT only offers a
 * wider one (Unix sockets), which the warning says.
 */
export function srtSettings(
  policy: Policy,
  hidden: string[],
  binaries: Record<string, string> = {},
  options: { audit?: boolean; ownTemp?: string } = {},
): { settings: SrtSettings; warnings: string[] } {
  const warnings: string[] = [];
  if (options.audit) {
    warnings.push(
      "AUDIT MODE: destinations not on the allow list are LET THROUGH and recorded, not blocked; deny entries and SRT's resolved-address checks still block",
    );
  }
  const { network, filesystem } = policy;
  const allowed: string[] = [];
  const blocks: NetworkRule[] = [];
  // An allowed literal that a deny rule's block covers (on its port, or on
  // every port) is left out: deny must still win under SRT.
  const deniedAddresses = new RuleIndex(
    network.deny.filter((d) => d.kind === 'address'),
  );
  for (const rule of network.allow) {
    if (namesThisHost(rule)) {
      continue;
    } else if (rule.kind === 'address' && !isSingle(rule)) {
      blocks.push(rule);
    } else if (rule.kind === 'address' && deniedAddresses.covering(rule)) {
      continue;
    } else {
      allowed.push(srtEntry(rule));
    }
  }
  for (const rule of blocks.slice(0, SHOWN_PER_KIND)) {
    warnings.push(
      `SRT cannot allow an address block: allow entry ${rule.raw} (${rule.source.origin}) is refused under SRT; use the kernel engine or list single addresses`,
    );
  }
  if (blocks.length > SHOWN_PER_KIND) {
    warnings.push(
      `SRT cannot allow an address block: ${blocks.length - SHOWN_PER_KIND} more allow entries that are blocks are refused under SRT (the dry run lists every rule); use the kernel engine or list single addresses`,
    );
  }
  const denied: string[] = [];
  const deniedBlocks: string[] = [];
  for (const rule of network.deny) {
    if (rule.kind === 'address' && !isSingle(rule)) {
      deniedBlocks.push(`${rule.address}/${rule.prefix}`);
      if (rule.port !== undefined) {
        warnings.push(
          `SRT cannot deny an address block on one port: deny entry ${rule.raw} is applied to every port under SRT`,
        );
      }
    } else {
      denied.push(srtEntry(rule));
    }
  }
  const operatorForbidsAll =
    !network.allowAllUnixSockets.value &&
    network.allowAllUnixSockets.source.kind === 'operator';
  // SRT can only allow every socket or none. The operator's explicit
  // `false` wins over reaching one socket: the narrower side.
  const sockets = operatorForbidsAll
    ? []
    : network.unixSockets.map((s) => s.path);
  if (operatorForbidsAll && network.unixSockets.length > 0) {
    warnings.push(
      `under SRT no Unix socket is reachable (${network.unixSockets.map((s) => s.path).join(', ')} included): the operator policy sets allow_all_unix_sockets: false, and SRT cannot allow one socket without allowing all`,
    );
  }
  const allSockets = network.allowAllUnixSockets.value || sockets.length > 0;
  if (sockets.length > 0 && !network.allowAllUnixSockets.value) {
    warnings.push(
      `SRT on Linux cannot allow one Unix socket path without allowing all of them: to reach ${sockets.join(', ')} every Unix socket is allowed under SRT, and flow-sandbox masks the other sockets it finds when the run starts (under /run, /var/run, /tmp, $HOME, and every socket bound in the runner's network namespace); a socket created later elsewhere stays reachable`,
    );
  }
  // A denied socket is masked by path under SRT (an empty file in its place):
  // needed where every socket is open, harmless where seccomp closes them all.
  const deniedSockets = network.denyUnixSockets.map((s) => s.path);
  if (allSockets && deniedSockets.length > 0) {
    warnings.push(
      `under SRT every Unix socket is allowed except ${deniedSockets.join(', ')}, masked at that path; another path to the same socket (a hard link, a bind mount) stays reachable`,
    );
  }
  if (network.allow.some(namesThisHost)) {
    warnings.push(
      "under SRT, localhost is the sandbox's own loopback: servers the command starts are reachable, services on the runner's loopback are not (SRT's proxies are never asked for localhost or loopback addresses)",
    );
  }
  if (filesystem.denyRead.length > 0) {
    warnings.push(
      'under SRT, a directory denied for reading shows as an empty directory that the command can write to; what it writes there vanishes with the sandbox (the real directory is untouched)',
    );
  }
  warnings.push(
    'under SRT, network access goes through HTTP and SOCKS proxies: clients that ignore HTTP(S)_PROXY/ALL_PROXY get no network at all (fails closed), and UDP is not carried',
  );
  return {
    settings: {
      network: {
        allowedDomains: allowed,
        deniedDomains: denied,
        deniedResolvedAddresses: deniedBlocks,
        strictAllowlist: !options.audit,
        allowUnixSockets: sockets,
        allowAllUnixSockets: allSockets,
        allowLocalBinding: network.allowLocalBinding.value,
      },
      filesystem: {
        denyRead: [
          ...filesystem.denyRead.map((p) => p.path),
          ...deniedSockets,
          ...hidden,
        ],
        ...(options.ownTemp ? { allowRead: [options.ownTemp] } : {}),
        allowWrite: filesystem.allowWrite.map((p) => p.path),
        denyWrite: [...filesystem.denyWrite.map((p) => p.path), ...hidden],
        // SRT's allowGitConfig makes .git/config writable; the policy asks
        // only that git configuration be readable, which it is anyway. A
        // written core.hooksPath or core.fsmonitor would run code outside
        // the sandbox the next time the runner uses git in this checkout.
        allowGitConfig: false,
      },
      ...(binaries.bwrap ? { bwrapPath: binaries.bwrap } : {}),
      ...(binaries.socat ? { socatPath: binaries.socat } : {}),
      ...(binaries.rg ? { ripgrep: { command: binaries.rg } } : {}),
      ...(binaries.applySeccomp
        ? { seccomp: { applyPath: binaries.applySeccomp } }
        : {}),
      ...(binaries.javaAgent ? { javaAgentJarPath: binaries.javaAgent } : {}),
    },
    warnings,
  };
}
