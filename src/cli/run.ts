import path from 'node:path';
import type { Context } from '../context.js';
import type { Decision } from '../decision/decide.js';
import { engineByName, selectEngine } from '../engines/select.js';
import { loadSrt } from '../engines/srt/probe.js';
import { commandEnv } from '../exec/jobenv.js';
import type {
  ApplyControls,
  CommandSpec,
  PlanInput,
  ProbeResult,
} from '../engines/types.js';
import {
  describeError,
  EXIT_SANDBOX_FAILURE,
  SandboxError,
} from '../errors.js';
import type { Policy } from '../policy/types.js';
import { planToJson, planToText } from '../plan/render.js';
import type { EngineChoice, RunPlan } from '../plan/types.js';
import { copyLinkedFiles, copyTempNames } from '../mounts/copies.js';
import { cleanupDeadRuns } from '../state/cleanup.js';
import { faultHook } from '../state/faults.js';
import { writeOwner } from '../state/owner.js';
import {
  createRunDir,
  newRunId,
  removeRunDir,
  stateRoot,
} from '../state/dir.js';
import { checkAuditEngine, reportAudit } from './audit.js';
import {
  buildReport,
  checkSelftestAddress,
  finishReport,
  openArtifacts,
  selftestHook,
  type SelftestState,
} from './finish.js';
import { closeArtifacts, type Artifact } from '../report/artifact.js';
import type { RunReport } from '../report/types.js';
import type { RunOptions } from './options.js';
import { preparePolicy, type Prepared } from './prepare.js';

function notApplied(
  options: RunOptions,
  decision: Decision,
  minimumLevel: RunOptions['minimumLevel'],
): EngineChoice {
  return {
    chosen: 'none',
    requested: options.engine,
    minimumLevel,
    candidates: [],
    reason: `the sandbox does not apply to this job: ${decision.reason}`,
  };
}

function buildPlan(
  options: RunOptions,
  ctx: Context,
  parts: {
    policy: Policy;
    decision: Decision;
    choice: EngineChoice;
    runId: string;
    prepared: Prepared;
  },
): { plan: RunPlan; input: PlanInput } {
  const env = commandEnv(ctx.env);
  if (parts.choice.chosen !== 'none') {
    // The runner's SSH agent signs with the keys the policy hides.
    delete env.SSH_AUTH_SOCK;
  }
  const command: CommandSpec = { argv: options.command, cwd: ctx.cwd, env };
  const probe: ProbeResult = parts.choice.candidates.find(
    (c) => c.engine === parts.choice.chosen,
  ) ?? { engine: parts.choice.chosen, usable: true, checks: [] };
  const input: PlanInput = {
    runId: parts.runId,
    policy: parts.policy,
    command,
    stateDir: path.join(stateRoot(ctx.env), parts.runId),
    probe,
    firewall: options.firewall,
    ...(options.audit ? { audit: true } : {}),
  };
  const enginePlan = engineByName(parts.choice.chosen).plan(input);
  const plan: RunPlan = {
    runId: parts.runId,
    decision: parts.decision,
    policy: parts.policy,
    engine: parts.choice,
    command: { argv: command.argv, cwd: command.cwd },
    stateDir: input.stateDir,
    enginePlan,
    sources: parts.prepared.sources,
    ...(options.audit ? { audit: true } : {}),
    ...(parts.choice.chosen !== 'none' && parts.prepared.linkedIn.length
      ? { linkedIn: parts.prepared.linkedIn }
      : {}),
    ...(parts.choice.chosen !== 'none' && parts.prepared.linkSearchIncomplete
      ? { linkSearchIncomplete: parts.prepared.linkSearchIncomplete }
      : {}),
  };
  return { plan, input };
}

/**
 * That the command runs without the sandbox its job asked for: logged
 * after the setup section closes, so no folded section hides it.
 */
function logUnsandboxed(ctx: Context, plan: RunPlan): void {
  const { decision, engine } = plan;
  if (engine.fallbackWarning) ctx.log.warn(engine.fallbackWarning);
  if (decision.apply && engine.chosen === 'none' && !engine.fallbackWarning) {
    ctx.log.warn(
      'the sandbox applies to this job, but --engine none was requested: the command runs WITHOUT a sandbox',
    );
  }
}

function logPlan(ctx: Context, plan: RunPlan): void {
  const { decision, engine } = plan;
  ctx.log.info(
    `decision: ${decision.apply ? 'sandbox applies' : 'sandbox does not apply'}: ${decision.reason}`,
  );
  ctx.log.info(`engine: ${engine.chosen}: ${engine.reason}`, {
    minimumLevel: engine.minimumLevel,
  });
  for (const warning of plan.enginePlan.warnings) {
    if (plan.enginePlan.engine !== 'none') ctx.log.warn(warning);
  }
  ctx.log.debug('plan', {
    runId: plan.runId,
    stateDir: plan.stateDir,
    allow: plan.policy.network.allow.length,
    deny: plan.policy.network.deny.length,
    enginePlan: plan.enginePlan.details,
  });
}

/**
 * Every run first removes what killed runs left (never a live run's). A
 * sweep that fails is a warning: what it could not remove is still
 * recorded, and it is not this run's to fail on.
 */
async function sweepDeadRuns(ctx: Context, runId: string): Promise<void> {
  let result;
  try {
    result = await cleanupDeadRuns(ctx, stateRoot(ctx.env), runId);
  } catch (error) {
    ctx.log.warn(`cleanup of killed runs failed: ${describeError(error)}`);
    return;
  }
  if (result.removedRuns.length) {
    ctx.log.warn(
      `removed what ${result.removedRuns.length} killed run(s) left behind: ${result.removedRuns.join(', ')}`,
    );
  }
  for (const failure of result.failures)
    ctx.log.warn(`cleanup of a killed run failed: ${failure}`);
}

/**
 * Gives files linked in from outside the writable paths copies of their
 * own (src/mounts/copies.ts). The temporary names are recorded first, for
 * the cleanup of a run killed half way.
 */
async function copyLinkedIn(ctx: Context, plan: RunPlan): Promise<void> {
  const files = plan.linkedIn ?? [];
  if (files.length === 0) return;
  await writeOwner(
    plan.stateDir,
    plan.runId,
    [],
    [],
    [],
    copyTempNames(files, plan.runId),
  );
  const copied = await copyLinkedFiles(files, plan.runId);
  await writeOwner(plan.stateDir, plan.runId);
  if (copied === 0) return;
  const first = files[0]!.paths[0];
  ctx.log.warn(
    `${copied} file(s) in the writable paths were also hard-linked from outside them (${first}${copied > 1 ? ', ...' : ''}): each now has a copy of its own, so writes in the sandbox cannot change the file elsewhere (for a package store linked into node_modules: keep the store inside the checkout, or have the package manager copy)`,
  );
}

/** `flow-sandbox run`: decide, choose, plan, then apply (or print, in a dry run). */
export async function runCommand(
  ctx: Context,
  options: RunOptions,
  controls: ApplyControls,
): Promise<number> {
  const runId = newRunId();
  ctx.log.debug('run starting', { runId });
  if (options.json && !options.dryRun)
    ctx.log.warn(
      '--json shapes the plan a dry run prints (--dry-run); this run prints no plan, so it changes nothing',
    );
  if (!options.dryRun && ['auto', 'srt'].includes(options.engine)) {
    // Start loading SRT (about 100 ms) while the policy is read.
    loadSrt().catch(() => undefined);
  }
  ctx.log.sectionStart('setup', 'flow-sandbox: preparing the sandbox');
  try {
    return (await decideAndApply(ctx, options, controls, runId))?.exitCode ?? 0;
  } catch (error) {
    // Close the job-log section so the error shows outside it.
    ctx.log.sectionEnd('setup');
    throw error;
  }
}

/** Runs the job; returns its report, or undefined after a dry run. */
async function decideAndApply(
  ctx: Context,
  options: RunOptions,
  controls: ApplyControls,
  runId: string,
): Promise<RunReport | undefined> {
  const artifacts = await openArtifacts(options);
  try {
    return await decideAndApplyWith(ctx, options, controls, runId, artifacts);
  } finally {
    await closeArtifacts([artifacts.report, artifacts.audit]);
  }
}

async function decideAndApplyWith(
  ctx: Context,
  options: RunOptions,
  controls: ApplyControls,
  runId: string,
  artifacts: { report?: Artifact; audit?: Artifact },
): Promise<RunReport | undefined> {
  const setupStep = faultHook(ctx.env);
  const prepared = await preparePolicy(ctx, options);
  const { policy, decision, minimumLevel } = prepared;
  checkSelftestAddress(options, policy);
  const tried: ProbeResult[] = [];
  for (;;) {
    const choice = decision.apply
      ? await selectEngine(ctx, {
          requested: options.engine,
          minimumLevel,
          exclude: tried,
          applying: !options.dryRun,
        })
      : notApplied(options, decision, minimumLevel);
    if (options.audit)
      checkAuditEngine(engineByName(choice.chosen), choice, decision);
    const { plan, input } = buildPlan(options, ctx, {
      policy,
      decision,
      choice,
      runId,
      prepared,
    });
    logPlan(ctx, plan);
    if (options.dryRun) {
      ctx.log.sectionEnd('setup');
      logUnsandboxed(ctx, plan);
      process.stdout.write(
        options.json
          ? `${JSON.stringify(planToJson(plan), null, 2)}\n`
          : planToText(plan),
      );
      return undefined;
    }
    // Fails closed, before anything changes: links the search did not
    // reach would stay open inside the sandbox.
    if (plan.linkSearchIncomplete)
      throw new SandboxError('APPLY_FAILED', plan.linkSearchIncomplete, {
        context: { step: 'search for hard links' },
      });
    await sweepDeadRuns(ctx, runId);
    await createRunDir(stateRoot(ctx.env), runId);
    setupStep?.('state-dir');
    try {
      await copyLinkedIn(ctx, plan);
      ctx.log.sectionEnd('setup');
      logUnsandboxed(ctx, plan);
      const selftest: SelftestState = {};
      const outcome = await engineByName(choice.chosen).apply(
        ctx,
        input,
        plan.enginePlan,
        controls,
        { ...selftestHook(ctx, options, plan, selftest), setupStep },
      );
      ctx.log.info(`command finished with status ${outcome.exitCode}`, {
        engine: choice.chosen,
      });
      if (options.audit)
        await reportAudit(
          ctx,
          prepared,
          { runId, engine: choice.chosen, outcome },
          artifacts.audit,
        );
      const report = buildReport(plan, outcome, selftest.result);
      await finishReport(ctx, report, artifacts.report);
      return report;
    } catch (error) {
      if (
        !(error instanceof SandboxError) ||
        error.code !== 'ENGINE_UNAVAILABLE'
      )
        throw error;
      // The engine looked usable but could not build a sandbox: try the next one.
      ctx.log.warn(
        `engine ${choice.chosen} could not start: ${describeError(error)}`,
      );
      tried.push({
        engine: choice.chosen,
        usable: false,
        checks: [{ name: 'start', ok: false, detail: error.message }],
      });
      ctx.log.sectionStart('setup', 'flow-sandbox: choosing another engine');
    } finally {
      if (!(await removeRunDir(input.stateDir))) {
        ctx.log.warn(
          `teardown left objects recorded in ${input.stateDir}; \`flow-sandbox cleanup\` (or the next run) removes them`,
        );
      }
    }
  }
}

/**
 * `flow-sandbox selftest`: applies the policy, runs only the self-test.
 * 0 when every check passes, 1 when one fails, 125 when no sandbox applies.
 */
export async function selftestCommand(
  ctx: Context,
  options: RunOptions,
  controls: ApplyControls,
): Promise<number> {
  const runId = newRunId();
  ctx.log.sectionStart('setup', 'flow-sandbox: self-test');
  try {
    const report = await decideAndApply(
      ctx,
      { ...options, command: ['true'] },
      controls,
      runId,
    );
    if (!report?.selftest) {
      if (options.dryRun) return 0;
      ctx.log.error('the self-test could not run: no sandbox was applied');
      return EXIT_SANDBOX_FAILURE;
    }
    return report.selftest.pass ? 0 : 1;
  } catch (error) {
    ctx.log.sectionEnd('setup');
    throw error;
  }
}
