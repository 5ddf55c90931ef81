import type { CommandRunner, RunOptions } from '../../src/exec/runner.js';
import type { FirewallSpec } from '../../src/firewall/spec.js';
import { kernelNames } from '../../src/netns/names.js';
import { slotSubnet } from '../../src/netns/pool.js';

/** A spec with a little of everything. */
export function sampleSpec(
  overrides: Partial<FirewallSpec> = {},
): FirewallSpec {
  return {
    names: kernelNames('a1b2c3d4'),
    subnet: slotSubnet(2),
    ipv6: true,
    allow: [
      { family: 4, cidr: '198.18.0.0/24' },
      { family: 4, cidr: '198.18.1.7', port: 443 },
      { family: 6, cidr: '2001:db8::/64' },
    ],
    deny: [{ family: 4, cidr: '198.18.0.66' }],
    ...overrides,
  };
}

/** A runner that records what it was asked to run and succeeds (or fails on demand). */
export function fakeRunner(
  fail: (argv: readonly string[], input?: string) => boolean = () => false,
) {
  const calls: Array<{ argv: readonly string[]; input?: string }> = [];
  const runner: CommandRunner = {
    async run(argv: readonly string[], options: RunOptions = {}) {
      calls.push({ argv, input: options.input });
      if (fail(argv, options.input)) {
        if (options.allowFailure)
          return {
            exitCode: 1,
            stdout: '',
            stderr: 'Error: No such file or directory',
          };
        throw new Error(`fake failure: ${argv.join(' ')}`);
      }
      return { exitCode: 0, stdout: '', stderr: '' };
    },
  };
  return { runner, calls };
}
