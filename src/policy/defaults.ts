import { invalidInput } from '../errors.js';
import { parseNetworkEntry } from './entries.js';
import type { PathBase } from './paths.js';
import { parsePath } from './paths.js';
import type { NetworkRule, Policy, RuleSource } from './types.js';

/** The Docker socket the default policy lets through. */
export const DOCKER_SOCKET = '/var/run/docker.sock';

const fixed = (origin: string): RuleSource => ({ kind: 'default', origin });

/** The GitLab instance host from CI_SERVER_HOST, else from CI_SERVER_URL. */
export function instanceHost(
  env: Record<string, string | undefined>,
): { host: string; origin: string } | undefined {
  const host = env.CI_SERVER_HOST?.trim();
  if (host) return { host, origin: 'CI_SERVER_HOST' };
  const url = env.CI_SERVER_URL?.trim();
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidInput(
      'CONFIG_INVALID',
      'CI_SERVER_URL',
      url,
      'an absolute URL such as https://gitlab.example.com',
    );
  }
  return { host: parsed.hostname, origin: 'CI_SERVER_URL' };
}

/** The instance host's rules: the host itself and every name below it. */
function instanceRules(env: Record<string, string | undefined>): NetworkRule[] {
  const found = instanceHost(env);
  if (!found) return [];
  const source = fixed(found.origin);
  const exact = parseNetworkEntry(found.host, found.origin, source);
  if (exact.kind !== 'host') return [exact];
  return [exact, parseNetworkEntry(`*.${exact.host}`, found.origin, source)];
}

/** The built-in policy, derived from the runner's environment. */
export function defaultPolicy(
  env: Record<string, string | undefined>,
  base: PathBase,
): Policy {
  const builtIn = fixed('built-in');
  return {
    network: {
      allow: [
        parseNetworkEntry('localhost', 'default', builtIn),
        parseNetworkEntry('host.docker.internal', 'default', builtIn),
        ...instanceRules(env),
      ],
      deny: [],
      unixSockets: [parsePath(DOCKER_SOCKET, 'default', base, builtIn)],
      denyUnixSockets: [],
      allowAllUnixSockets: { value: false, source: builtIn },
      allowLocalBinding: { value: true, source: builtIn },
    },
    filesystem: {
      denyRead: [parsePath('~/.ssh', 'default', base, builtIn)],
      allowWrite: [
        parsePath('.', 'default', base, builtIn),
        // TODO(#3): /tmp is the host's, shared with other jobs and runner
        // processes: a job can leave files there for them (a trap for the next
        // run's link copies was one). A private /tmp per run would close it.
        parsePath('/tmp', 'default', base, builtIn),
      ],
      denyWrite: [],
      allowGitConfig: { value: true, source: builtIn },
    },
    refused: [],
  };
}
