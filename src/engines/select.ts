import type { Context } from '../context.js';
import { SandboxError } from '../errors.js';
import type { EngineChoice } from '../plan/types.js';
import { lazyEngine } from './lazy.js';
import { noneEngine } from './none.js';
import { KERNEL_SETUP_STEPS } from './steps.js';
import { srtEngine } from './srt/engine.js';
import {
  levelRank,
  type Engine,
  type EngineName,
  type Level,
  type ProbeResult,
} from './types.js';

/** Engines in the order `auto` tries them: strongest first. */
/** The kernel engine's code (resolver, firewall, mounts) loads only when used. */
const kernelEngine = lazyEngine(
  'kernel',
  KERNEL_SETUP_STEPS,
  async () => (await import('./kernel/engine.js')).kernelEngine,
);

export const ENGINES: readonly Engine[] = [srtEngine, kernelEngine, noneEngine];

/** Engine names the CLI accepts for --engine (plus `auto`). */
export const ENGINE_NAMES = ENGINES.map((e) => e.name);

export function engineByName(name: EngineName): Engine {
  const engine = ENGINES.find((e) => e.name === name);
  if (!engine)
    throw new SandboxError(
      'USAGE',
      `engine ${name} is not available in this build`,
    );
  return engine;
}

/** Where to point an operator whose runner cannot host a sandbox. */
export const GUIDANCE_URL =
  'https://docs.gitlab.com/runner/configuration/advanced-configuration/#the-runnersdocker-section';

export interface SelectRequest {
  requested: 'auto' | EngineName;
  minimumLevel: Level;
  /** Engines already tried and found unusable at apply time. */
  exclude?: ProbeResult[];
  /** True when the chosen engine is applied right away (not a dry run). */
  applying: boolean;
  /** The engines to choose from (tests give fakes); ENGINES by default. */
  engines?: readonly Engine[];
}

function summary(probe: ProbeResult): string {
  const failed = probe.checks.filter((c) => !c.ok);
  return failed.length ? failed.map((c) => c.detail).join('; ') : 'usable';
}

/**
 * Probes candidates in order and picks the first usable one. A requested
 * engine that cannot run falls back to `none`, never to a weaker sandbox
 * silently; the minimum level turns that fallback into a refusal.
 */
export async function selectEngine(
  ctx: Context,
  request: SelectRequest,
): Promise<EngineChoice> {
  const excluded = new Map((request.exclude ?? []).map((p) => [p.engine, p]));
  const engines = request.engines ?? ENGINES;
  const order =
    request.requested === 'auto'
      ? engines.map((e) => e.name)
      : [
          request.requested,
          ...(request.requested === 'none' ? [] : ['none' as const]),
        ];
  const candidates: ProbeResult[] = [];
  for (const name of order) {
    const engine = engines.find((e) => e.name === name) ?? engineByName(name);
    const probe =
      excluded.get(name) ??
      (await engine.probe(ctx, { deep: false, quick: request.applying }));
    candidates.push(probe);
    if (!probe.usable) continue;
    // The job log says why a stronger engine was passed over.
    const passed = candidates
      .filter((c) => !c.usable)
      .map((c) => `${c.engine}: ${summary(c)}`);
    const why = passed.length ? ` (${passed.join('; ')})` : '';
    const choice: EngineChoice = {
      chosen: name,
      requested: request.requested,
      minimumLevel: request.minimumLevel,
      candidates,
      reason:
        name === request.requested
          ? `requested with --engine ${name}`
          : `first usable engine in order ${order.join(', ')}${why}`,
    };
    if (name === 'none' && request.requested !== 'none') {
      const why = candidates
        .filter((c) => !c.usable)
        .map((c) => `${c.engine}: ${summary(c)}`)
        .join('; ');
      choice.reason = `no sandbox engine can run here (${why})`;
      choice.fallbackWarning = `THE SANDBOX COULD NOT BE APPLIED: the command runs WITHOUT a sandbox, with the runner's full network and filesystem access. Why: ${why}. Fix the runner (see ${GUIDANCE_URL}) or set --minimum-level to refuse such runs.`;
    }
    return enforceMinimum(choice);
  }
  throw new SandboxError('INTERNAL', 'no engine selected');
}

function enforceMinimum(choice: EngineChoice): EngineChoice {
  if (levelRank(choice.chosen) >= levelRank(choice.minimumLevel)) return choice;
  const why = choice.candidates
    .filter((c) => !c.usable)
    .map((c) => `${c.engine}: ${summary(c)}`)
    .join('; ');
  if (choice.requested !== 'auto' && choice.requested === choice.chosen) {
    // Not the runner's doing: the engine asked for is below the minimum.
    throw new SandboxError(
      'LEVEL_NOT_MET',
      `--engine ${choice.requested} is below the minimum sandbox level ${choice.minimumLevel} (levels: srt > kernel > none); the command was not run. Ask for an engine at or above it (--engine auto picks the strongest that runs here) or lower --minimum-level.`,
    );
  }
  throw new SandboxError(
    'LEVEL_NOT_MET',
    `the minimum sandbox level is ${choice.minimumLevel}, but the best engine that can run here is ${choice.chosen}${why ? ` (${why})` : ''}; the command was not run. Fix the runner (see ${GUIDANCE_URL}) or lower --minimum-level.`,
  );
}
