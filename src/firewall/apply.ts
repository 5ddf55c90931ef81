import { SandboxError } from '../errors.js';
import type { CommandResult, CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log/logger.js';
import type { AddressGate } from './gate.js';
import { iptablesGate } from './gate-iptables.js';
import { nftGate } from './gate-nft.js';
import { iptablesChains, IPTABLES_RESTORE } from './iptables.js';
import type { CommandStep, FirewallPlan } from './plan.js';

function checkOutput(
  plan: FirewallPlan,
  step: CommandStep,
  result: CommandResult,
): void {
  if (step.expect === undefined) return;
  if (result.exitCode === 0 && result.stdout.includes(step.expect)) return;
  throw new SandboxError(
    'APPLY_FAILED',
    `the ${plan.backend} rules of ${plan.table} are not in place: ${step.argv.join(' ')} (status ${result.exitCode}) did not show ${JSON.stringify(step.expect)}`,
    {
      context: {
        argv: step.argv,
        exitCode: result.exitCode,
        stderrTail: result.stderr.slice(-2000),
      },
    },
  );
}

/**
 * Loads the run's rules (one transaction per family and backend) and
 * checks that the kernel has them: a program that only looks like nft
 * (an npm package of that name once came first on PATH) must not leave
 * the sandbox without a firewall.
 */
export async function loadFirewall(
  exec: CommandRunner,
  plan: FirewallPlan,
): Promise<void> {
  await Promise.all(
    plan.setup.map(async (step) => {
      checkOutput(plan, step, await exec.run(step.argv, { input: step.input }));
    }),
  );
  for (const step of plan.verify) {
    checkOutput(plan, step, await exec.run(step.argv, { allowFailure: true }));
  }
}

const NFT_GONE = /No such file or directory/;

/** Removes the run's rules; safe to repeat, and after a partial setup. */
export async function removeFirewall(
  exec: CommandRunner,
  plan: FirewallPlan,
): Promise<void> {
  if (plan.backend === 'nft') {
    const step = plan.teardown[0]!;
    const result = await exec.run(step.argv, { allowFailure: true });
    if (result.exitCode !== 0 && !NFT_GONE.test(result.stderr)) {
      throw new SandboxError(
        'APPLY_FAILED',
        `removing nft table ${plan.table} failed: ${result.stderr.trim()}`,
        {
          context: {
            argv: step.argv,
            exitCode: result.exitCode,
            stderrTail: result.stderr.slice(-2000),
          },
        },
      );
    }
    return;
  }
  await removeIptablesRules(exec, {
    chain: plan.chain,
    ipv6: plan.ipv6,
    teardown: plan.teardown[0]?.input ?? '',
  });
}

/**
 * Removes a run's iptables chains and jumps, for IPv4 and (with `ipv6`)
 * IPv6: the teardown batch, or line by line where part of it is already
 * gone (a setup or teardown that was cut short), then checks that nothing
 * of the chain is left. Used by teardown and by the cleanup of killed runs.
 */
export async function removeIptablesRules(
  exec: CommandRunner,
  rules: { chain: string; ipv6: boolean; teardown: string },
): Promise<void> {
  const families = rules.ipv6 ? ([4, 6] as const) : ([4] as const);
  for (const family of families) {
    const argv = [...IPTABLES_RESTORE[family]];
    const result = await exec.run(argv, {
      input: rules.teardown,
      allowFailure: true,
    });
    if (result.exitCode === 0) continue;
    // Part of it is already gone, which fails the whole batch: remove the
    // rest one line at a time, then check that nothing of ours is left.
    await removeLineByLine(
      exec,
      argv[0]!.replace('-restore', ''),
      rules.teardown,
    );
  }
  await assertIptablesGone(exec, rules);
}

async function removeLineByLine(
  exec: CommandRunner,
  tool: string,
  batch: string,
): Promise<void> {
  let table = 'filter';
  for (const line of batch.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    if (!line.startsWith('-')) continue;
    await exec.run([tool, '-w', '-t', table, ...line.split(' ')], {
      allowFailure: true,
    });
  }
}

async function assertIptablesGone(
  exec: CommandRunner,
  rules: { chain: string; ipv6: boolean },
): Promise<void> {
  const tools = rules.ipv6 ? ['iptables', 'ip6tables'] : ['iptables'];
  for (const tool of tools) {
    for (const table of ['filter', 'nat']) {
      const listing = await exec.run([tool, '-w', '-t', table, '-S'], {
        allowFailure: true,
      });
      if (listing.stdout.includes(`${rules.chain}-`)) {
        throw new SandboxError(
          'APPLY_FAILED',
          `${tool} table ${table} still holds rules of ${rules.chain}; remove them with \`flow-sandbox cleanup\``,
        );
      }
    }
  }
}

/** The gate the resolver opens addresses through, for the plan's backend. */
export function openGate(options: {
  exec: CommandRunner;
  log: Logger;
  plan: FirewallPlan;
}): AddressGate {
  const { exec, log, plan } = options;
  return plan.backend === 'nft'
    ? nftGate({ exec, table: plan.table })
    : iptablesGate({ exec, chain: plan.chain, log });
}

/** The iptables chain whose counters hold the rejected packets. */
export function rejectChain(plan: FirewallPlan): string {
  return iptablesChains(plan.chain).reject;
}
