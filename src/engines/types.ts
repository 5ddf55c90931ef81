import type { Context } from '../context.js';
import type { Policy } from '../policy/types.js';
import type { BlockedReport } from '../report/types.js';
import type { SetupStep, StepReached } from './steps.js';

/** Sandbox levels, strongest first: srt > kernel > none. */
export const LEVELS = ['none', 'kernel', 'srt'] as const;
export type Level = (typeof LEVELS)[number];
export type EngineName = Level;

/** Numeric strength of a level, for comparisons against the minimum. */
export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

/** One prerequisite an engine checked on this host. */
export interface ProbeCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** What an operator can do when it fails. */
  fix?: string;
}

/** What probing an engine found: usable or not, and why. */
export interface ProbeResult {
  engine: EngineName;
  usable: boolean;
  checks: ProbeCheck[];
  /** What the probe found that the plan needs (binary paths, versions). */
  facts?: Record<string, string>;
}

/** The command to run, where, and with which environment. */
export interface CommandSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

/** Everything an engine needs to plan, gathered up front. */
export interface PlanInput {
  runId: string;
  policy: Policy;
  command: CommandSpec;
  /** flow-sandbox's own state directory for this run (hidden from the command). */
  stateDir: string;
  probe: ProbeResult;
  /** Kernel engine only: which firewall backend to use. */
  firewall?: 'auto' | 'nft' | 'iptables';
  /**
   * Audit mode: destinations the policy would refuse for not being on the
   * allow list are let through and recorded; deny entries still block.
   */
  audit?: boolean;
}

/** One destination an audit saw, with how often and why it stood out. */
export interface ObservedDestination {
  host: string;
  /** 0 when the engine did not learn the port. */
  port: number;
  count: number;
  /** For refusals: the engine's reason (deny entry, resolved address, ...). */
  reason?: string;
}

/** What an engine saw in audit mode. */
export interface AuditObservations {
  /** Not on the allow list: enforcement would have refused them. */
  letThrough: ObservedDestination[];
  /** Refused even in audit mode (deny entries, resolved-address checks). */
  refused: ObservedDestination[];
}

/** Run-time controls that are not part of the plan. */
export interface ApplyControls {
  /**
   * Aborted when the controller gets SIGINT or SIGTERM: the engine passes
   * the signal to the command, waits a short grace period, kills it, tears
   * everything down and returns 128 + the signal number.
   */
  abort: AbortSignal;
  /** Which signal caused the abort, once it fired. */
  abortSignal(): NodeJS.Signals | undefined;
}

/**
 * An engine's plan: plain data that a dry run prints and `apply` carries
 * out. `details` is engine-specific (SRT settings, nft ruleset text, ...).
 */
export interface EnginePlan {
  engine: EngineName;
  /** Where this engine cannot express the policy exactly, in words. */
  warnings: string[];
  details: Record<string, unknown>;
}

/** What a run reports back after the command ends. */
export interface RunOutcome {
  exitCode: number;
  /** What the engine refused during the run, as far as it can see. */
  blocked?: BlockedReport;
  /** Set when the run was an audit. */
  audit?: AuditObservations;
}

/** A command run inside the applied sandbox with its output captured. */
export type RunInside = (
  argv: string[],
) => Promise<{ status: number; stdout: string; stderr: string }>;

/** Optional steps the run flow takes once the sandbox is up. */
export interface ApplyHooks {
  /**
   * Runs after the sandbox is applied and before the job's command. It may
   * run commands inside the sandbox; returning false stops the job (the
   * engine then tears down and returns status 125 without running it).
   */
  beforeCommand?: (runInside: RunInside) => Promise<boolean>;
  /** Called after each setup step (the fault-injection test's hook). */
  setupStep?: StepReached;
}

export interface ProbeOptions {
  deep: boolean;
  quick?: boolean;
}

/** A sandbox engine: probes the host, plans purely, applies a plan. */
export interface Engine {
  readonly name: EngineName;
  /** Whether `apply` honours PlanInput.audit; `--audit` is refused otherwise. */
  readonly supportsAudit?: boolean;
  /** The steps `apply` takes that create something, in order (steps.ts). */
  readonly setupSteps: readonly SetupStep[];
  /**
   * Checks prerequisites. `deep` may start a throw-away sandbox (doctor
   * only). `quick` is set when the run applies right after: checks that
   * apply proves by itself before the command starts may be skipped.
   * Neither may leave anything on the host.
   */
  probe(ctx: Context, options: ProbeOptions): Promise<ProbeResult>;
  /** Pure: the same input gives the same plan. */
  plan(input: PlanInput): EnginePlan;
  /** Runs the command under the plan; tears everything down before returning. */
  apply(
    ctx: Context,
    input: PlanInput,
    plan: EnginePlan,
    controls: ApplyControls,
    hooks?: ApplyHooks,
  ): Promise<RunOutcome>;
}
