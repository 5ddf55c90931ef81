import type { Context } from '../../context.js';
import { SandboxError } from '../../errors.js';
import { KERNEL_SETUP_STEPS } from '../steps.js';
import type { Engine, EnginePlan, PlanInput } from '../types.js';
import { applyKernel } from './apply.js';
import { DEFAULT_KERNEL_OPTIONS, type KernelOptions } from './options.js';
import { describeKernelPlan } from './describe.js';
import { buildKernelPlan } from './plan.js';
import { probeKernel } from './probe.js';
import { kernelWarnings } from './warnings.js';

/**
 * flow-sandbox's own engine: a network namespace per run behind a firewall
 * in the runner's namespace, a filtering resolver, and a mount-namespace
 * view of the filesystem. `options` exist for tests (short TTL floors,
 * another pool); the CLI uses the defaults.
 */
export function createKernelEngine(
  overrides: Partial<KernelOptions> = {},
): Engine {
  const options: KernelOptions = { ...DEFAULT_KERNEL_OPTIONS, ...overrides };
  return {
    name: 'kernel',
    setupSteps: KERNEL_SETUP_STEPS,
    probe: (ctx: Context, probeOptions: { deep: boolean }) =>
      probeKernel(ctx, probeOptions),
    plan(input: PlanInput): EnginePlan {
      // Slot 0 stands in for the slot a run claims when it starts.
      const plan = buildKernelPlan(input, options, 0, false);
      return {
        engine: 'kernel',
        warnings: kernelWarnings(input.policy, plan),
        details: describeKernelPlan(plan),
      };
    },
    async apply(ctx, input, plan, controls, hooks = {}) {
      if (plan.engine !== 'kernel') {
        throw new SandboxError(
          'INTERNAL',
          `the kernel engine was given a ${plan.engine} plan`,
        );
      }
      return applyKernel(ctx, input, options, controls, hooks);
    },
  };
}

/** The kernel engine with its default settings. */
export const kernelEngine: Engine = createKernelEngine();
