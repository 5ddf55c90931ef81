import os from 'node:os';
import path from 'node:path';
import type { Context } from '../context.js';
import { decide, type Decision } from '../decision/decide.js';
import { engineByName, selectEngine } from '../engines/select.js';
import { loadSrt } from '../engines/srt/probe.js';
import type {
  ApplyControls,
  CommandSpec,
  PlanInput,
  ProbeResult,
} from '../engines/types.js';
import { describeError, SandboxError } from '../errors.js';
import { readAgentConfig } from '../policy/agent-config.js';
import { buildPolicy } from '../policy/build.js';
import type { Policy } from '../policy/types.js';
import { planToJson, planToText } from '../plan/render.js';
import type { EngineChoice, RunPlan } from '../plan/types.js';
import {
  createRunDir,
  newRunId,
  removeRunDir,
  stateRoot,
} from '../state/dir.js';
import type { RunOptions } from './options.js';

/** The job's environment, minus flow-sandbox's own settings. */
function commandEnv(
  env: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && !k.startsWith('FLOW_SANDBOX_')) out[k] = v;
  }
  return out;
}

function forcedBy(options: RunOptions): string | undefined {
  if (options.forceSandbox) return '--force-sandbox';
  if (options.minimumLevel !== 'none')
    return `--minimum-level ${options.minimumLevel}`;
  return undefined;
}

/** Everything up to the engine choice: pure of host changes. */
async function prepare(ctx: Context, options: RunOptions) {
  const home = ctx.env.HOME || os.homedir();
  const policy = await buildPolicy({
    env: ctx.env,
    base: { home, cwd: ctx.cwd },
    configFile: options.config,
    allow: [options.allow],
    deny: [options.deny],
  });
  const decision = decide({
    env: ctx.env,
    agentConfig: await readAgentConfig(ctx.cwd),
    forcedBy: forcedBy(options),
  });
  return { policy, decision };
}

function notApplied(options: RunOptions, decision: Decision): EngineChoice {
  return {
    chosen: 'none',
    requested: options.engine,
    minimumLevel: options.minimumLevel,
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
  },
): { plan: RunPlan; input: PlanInput } {
  const command: CommandSpec = {
    argv: options.command,
    cwd: ctx.cwd,
    env: commandEnv(ctx.env),
  };
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
  };
  return { plan, input };
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
  if (engine.fallbackWarning) ctx.log.warn(engine.fallbackWarning);
  if (decision.apply && engine.chosen === 'none' && !engine.fallbackWarning) {
    ctx.log.warn(
      'the sandbox applies to this job, but --engine none was requested: the command runs WITHOUT a sandbox',
    );
  }
  ctx.log.debug('plan', {
    runId: plan.runId,
    stateDir: plan.stateDir,
    allow: plan.policy.network.allow.length,
    deny: plan.policy.network.deny.length,
    enginePlan: plan.enginePlan.details,
  });
}

/** `flow-sandbox run`: decide, choose, plan, then apply (or print, in a dry run). */
export async function runCommand(
  ctx: Context,
  options: RunOptions,
  controls: ApplyControls,
): Promise<number> {
  const runId = newRunId();
  ctx.log.debug('run starting', { runId });
  if (!options.dryRun && ['auto', 'srt'].includes(options.engine)) {
    // Start loading SRT (about 100 ms) while the policy is read.
    loadSrt().catch(() => undefined);
  }
  ctx.log.sectionStart('setup', 'flow-sandbox: preparing the sandbox');
  try {
    return await decideAndApply(ctx, options, controls, runId);
  } catch (error) {
    // Close the job-log section so the error shows outside it.
    ctx.log.sectionEnd('setup');
    throw error;
  }
}

async function decideAndApply(
  ctx: Context,
  options: RunOptions,
  controls: ApplyControls,
  runId: string,
): Promise<number> {
  const { policy, decision } = await prepare(ctx, options);
  const tried: ProbeResult[] = [];
  for (;;) {
    const choice = decision.apply
      ? await selectEngine(ctx, {
          requested: options.engine,
          minimumLevel: options.minimumLevel,
          exclude: tried,
          applying: !options.dryRun,
        })
      : notApplied(options, decision);
    const { plan, input } = buildPlan(options, ctx, {
      policy,
      decision,
      choice,
      runId,
    });
    logPlan(ctx, plan);
    if (options.dryRun) {
      ctx.log.sectionEnd('setup');
      process.stdout.write(
        options.json
          ? `${JSON.stringify(planToJson(plan), null, 2)}\n`
          : planToText(plan),
      );
      return 0;
    }
    await createRunDir(stateRoot(ctx.env), runId);
    try {
      ctx.log.sectionEnd('setup');
      const outcome = await engineByName(choice.chosen).apply(
        ctx,
        input,
        plan.enginePlan,
        controls,
      );
      ctx.log.info(`command finished with status ${outcome.exitCode}`, {
        engine: choice.chosen,
      });
      return outcome.exitCode;
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
      await removeRunDir(input.stateDir);
    }
  }
}
