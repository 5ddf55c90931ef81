import os from 'node:os';
import type { Context } from '../context.js';
import type { ApplyHooks, RunOutcome } from '../engines/types.js';
import type { RunPlan } from '../plan/types.js';
import { ruleMatches } from '../policy/match.js';
import type { Policy } from '../policy/types.js';
import { invalidInput } from '../errors.js';
import {
  closeArtifacts,
  openArtifact,
  writeArtifact,
  type Artifact,
} from '../report/artifact.js';
import type { RunReport, SelftestResult } from '../report/types.js';
import { emptyBlocked } from '../report/types.js';
import { quoted } from '../log/logger.js';
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
      const table = selftestTable(result).split('\n');
      if (result.pass) {
        ctx.log.block(
          'info',
          'self-test passed: the sandbox refuses what it must',
          table,
        );
        return true;
      }
      const strict = plan.engine.minimumLevel !== 'none';
      const consequence = strict
        ? `the job is stopped (minimum level ${plan.engine.minimumLevel})`
        : 'the job runs anyway; set --minimum-level to stop such jobs';
      ctx.log.block(
        'error',
        `SELF-TEST FAILED: the sandbox does not refuse everything it must; ${consequence}`,
        table,
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
  report: RunReport,
  artifact?: Artifact,
): Promise<void> {
  const b = report.blocked;
  ctx.log.info(
    `summary: engine ${report.engine}, sandbox ${report.sandboxApplied ? 'applied' : 'NOT applied'}, command status ${report.exitCode}${report.selftest ? `, self-test ${report.selftest.pass ? 'passed' : 'FAILED'}` : ''}`,
  );
  const lines = [
    ...b.names.map((n) => `  refused name ${quoted(n.name)} x${n.count}`),
    ...b.destinations.map(
      (d) =>
        `  refused ${quoted(d.host)}${d.port === undefined ? '' : `:${d.port}`}${d.protocol ? `/${d.protocol}` : ''} x${d.count}${d.reason ? ` (${d.reason})` : ''}`,
    ),
    ...b.writes.map((w) => `  refused write ${quoted(w.path)} x${w.count}`),
  ];
  if (lines.length === 0 && report.sandboxApplied) {
    lines.push('  nothing was refused that this engine can see');
  }
  // One log call per line: the logger escapes line breaks in what it is
  // given, so a name the command chose cannot start a line of its own.
  for (const line of lines) ctx.log.info(line);
  if (!artifact) return;
  try {
    await writeArtifact(artifact, `${JSON.stringify(report, null, 2)}\n`);
  } catch (error) {
    // The command has run: its status stands, the missing artifact is logged.
    ctx.log.error(
      `the report could not be written to ${artifact.file}: ${(error as Error).message}`,
    );
  }
}

/**
 * The files the run writes for the operator, checked and their directories
 * opened before anything runs (src/report/artifact.ts).
 */
export async function openArtifacts(
  options: RunOptions,
): Promise<{ report?: Artifact; audit?: Artifact }> {
  if (options.auditReport && !options.audit)
    throw invalidInput(
      'USAGE',
      '--audit-report',
      options.auditReport,
      'with --audit (the findings of an audit run)',
      'no audit is asked for',
    );
  const report = options.report
    ? await openArtifact('--report', options.report)
    : undefined;
  try {
    const audit = options.auditReport
      ? await openArtifact('--audit-report', options.auditReport)
      : undefined;
    return { report, audit };
  } catch (error) {
    await closeArtifacts([report]);
    throw error;
  }
}
