import type { NetExecResult } from '../../scripts/testnet/exec.js';
import type { Testnet } from '../../scripts/testnet/testnet.js';
import { jobEnv, sandboxWrap } from '../sandbox-run.js';

/**
 * Runs `flow-sandbox run OPTIONS -- COMMAND` in the test network's runner,
 * from `cwd` (a project checkout under the network's own directory).
 */
export function runIn(
  net: Testnet,
  cwd: string,
  options: readonly string[],
  command: readonly string[],
  env: Record<string, string> = {},
): Promise<NetExecResult> {
  return net.exec([...sandboxWrap(options), ...command], {
    cwd,
    env: { ...jobEnv(net), ...env },
  });
}

/** Host headers of the HTTP requests the outside host received so far. */
export async function outsideRequests(net: Testnet): Promise<string[]> {
  const events = await net.events('out');
  return events
    .filter((e) => e.kind === 'http')
    .map((e) => (e.name ?? '').split('/')[0]!.replace(/:\d+$/, ''));
}

/** A shell flow: GET each host on port 80, print `HOST STATUS` per line. */
export function statusFlow(hosts: string[]): string[] {
  return [
    'sh',
    '-c',
    `for h in ${hosts.join(' ')}; do printf "%s %s\\n" $h $(curl -s -o /dev/null -w "%{http_code}" --max-time 5 http://$h/); done`,
  ];
}
