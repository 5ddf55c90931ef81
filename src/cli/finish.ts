import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import type { Context } from '../context.js';
import type { ApplyHooks, RunOutcome } from '../engines/types.js';
import { invalidInput } from '../errors.js';
import type { RunPlan } from '../plan/types.js';
import { ruleMatches } from '../policy/match.js';
import type { Policy } from '../policy/types.js';
import type { RunReport, SelftestResult } from '../report/types.js';
import { emptyBlocked } from '../report/types.js';
import {
  DEFAULT_SELFTEST_ADDRESS,
  probeConfig,
  runSelftest,
  selftestTable,
} from '../selftest/selftest.js';
import type { RunOptions } from './options.js';

/** Holds the self-test result once the hook has run. */
export interface SelftestState {
  result?: SelftestResult;
}

/**
 * The self-test as an apply hook: it runs inside the applied sandbox
 * before the job. A failure stops the job when a minimum level is set (the
 * operator asked for guarantees); otherwise it is a loud warning.
 */
export function selftestHook(
  ctx: Context,
  options: RunOptions,
  plan: RunPlan,
  state: SelftestState,
): ApplyHooks {
  if (!options.selftest) return {};
  return {
    async beforeCommand(runInside) {
      const config = probeConfig(plan.policy, {
        home: ctx.env.HOME || os.homedir(),
        runId: plan.runId,
        address: options.selftestAddress,
      });
      const result = await runSelftest(runInside, config);
      state.result = result;
      const table = selftestTable(result);
      if (result.pass) {
        ctx.log.info(
          `self-test passed: the sandbox refuses what it must\n${table}`,
        );
        return true;
      }
      const strict = plan.engine.minimumLevel !== 'none';
      const consequence = strict
        ? `the job is stopped (minimum level ${plan.engine.minimumLevel})`
        : 'the job runs anyway; set --minimum-level to stop such jobs';
      ctx.log.error(
        `SELF-TEST FAILED: the sandbox does not refuse everything it must; ${consequence}\n${table}`,
      );
      return !strict;
    },
  };
}

/**
 * The self-test proves the sandbox refuses an outside address; one the
 * policy allows would pass it or fail it by chance (a refused connection
 * from the host itself looks like the sandbox's refusal), so it is an
 * error before anything is applied.
 */
export function checkSelftestAddress(
  options: RunOptions,
  policy: Policy,
): void {
  if (!options.selftest) return;
  const address = options.selftestAddress ?? DEFAULT_SELFTEST_ADDRESS;
  const allowing = policy.network.allow.find((rule) =>
    ruleMatches({ ...rule, port: undefined }, { host: address }),
  );
  if (!allowing) return;
  throw invalidInput(
    'USAGE',
    options.selftestAddress
      ? '--selftest-address'
      : 'the default self-test address',
    address,
    'an address the policy refuses (one outside every allow entry)',
    `allow entry ${allowing.raw} from ${allowing.source.origin} covers it, so the self-test could prove nothing`,
  );
}

/** The end-of-run report, from the plan and what the engine saw. */
export function buildReport(
  plan: RunPlan,
  outcome: RunOutcome,
  selftest?: SelftestResult,
): RunReport {
  const applied = plan.decision.apply && plan.engine.chosen !== 'none';
  return {
    runId: plan.runId,
    engine: plan.engine.chosen,
    level: plan.engine.chosen,
    sandboxApplied: applied,
    decision: plan.decision.reason,
    exitCode: outcome.exitCode,
    warnings: [
      ...plan.enginePlan.warnings,
      ...(plan.engine.fallbackWarning ? [plan.engine.fallbackWarning] : []),
    ],
    blocked:
      outcome.blocked ??
      emptyBlocked(
        applied ? [] : ['no sandbox: nothing was blocked or observed'],
      ),
    ...(selftest ? { selftest } : {}),
  };
}

/** Logs the short summary and writes the JSON report when asked. */
export async function finishReport(
  ctx: Context,
  options: RunOptions,
  report: RunReport,
): Promise<void> {
  const b = report.blocked;
  const lines = [
    `summary: engine ${report.engine}, sandbox ${report.sandboxApplied ? 'applied' : 'NOT applied'}, command status ${report.exitCode}${report.selftest ? `, self-test ${report.selftest.pass ? 'passed' : 'FAILED'}` : ''}`,
    ...b.names.map((n) => `  refused name ${n.name} x${n.count}`),
    ...b.destinations.map(
      (d) =>
        `  refused ${d.host}${d.port === undefined ? '' : `:${d.port}`}${d.protocol ? `/${d.protocol}` : ''} x${d.count}${d.reason ? ` (${d.reason})` : ''}`,
    ),
    ...b.writes.map((w) => `  refused write ${w.path} x${w.count}`),
  ];
  if (
    b.names.length + b.destinations.length + b.writes.length === 0 &&
    report.sandboxApplied
  ) {
    lines.push('  nothing was refused that this engine can see');
  }
  ctx.log.info(lines.join('\n'));
  if (!options.report) return;
  try {
    await writeFile(options.report, `${JSON.stringify(report, null, 2)}\n`);
  } catch (error) {
    // The command has run: its status stands, the missing artifact is logged.
    ctx.log.error(
      `the report could not be written to ${options.report}: ${(error as Error).message}`,
    );
  }
}

/** Refuses, before anything runs, a --report path that cannot be written. */
export async function checkReportPath(options: RunOptions): Promise<void> {
  if (!options.report) return;
  const dir = path.dirname(path.resolve(options.report));
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw invalidInput(
      'USAGE',
      '--report',
      options.report,
      'a file in an existing, writable directory',
    );
  }
}
