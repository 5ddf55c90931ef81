import type { SetupStep } from './steps.js';
import type { Engine, EngineName } from './types.js';

/**
 * An engine whose module is loaded on first use: every run pays start-up
 * time only for the engines it actually probes or applies. Planning is
 * synchronous, so it needs the module loaded, which probing always does
 * first.
 */
export function lazyEngine(
  name: EngineName,
  setupSteps: readonly SetupStep[],
  load: () => Promise<Engine>,
): Engine {
  let engine: Engine | undefined;
  const get = async () => (engine ??= await load());
  return {
    name,
    setupSteps,
    probe: async (ctx, options) => (await get()).probe(ctx, options),
    plan: (input) => {
      if (!engine)
        throw new Error(`the ${name} engine was planned before it was probed`);
      return engine.plan(input);
    },
    apply: async (ctx, input, plan, controls, hooks) =>
      (await get()).apply(ctx, input, plan, controls, hooks),
  };
}
