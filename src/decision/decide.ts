import type { AgentConfig } from '../policy/agent-config.js';
import { AGENT_CONFIG_PATH } from '../policy/agent-config.js';
import { judgeImage } from './image.js';

/** One condition of the decision and whether it held. */
export interface Condition {
  name: 'agent-config' | 'image' | 'ci';
  ok: boolean;
  reason: string;
}

/** Whether the sandbox applies to this job, and why. */
export interface Decision {
  apply: boolean;
  /** Set when the operator forced the sandbox regardless of the conditions. */
  forcedBy?: string;
  reason: string;
  conditions: Condition[];
}

export interface DecisionInput {
  env: Record<string, string | undefined>;
  agentConfig: AgentConfig | undefined;
  /** e.g. `--force-sandbox`, `--minimum-level kernel`; undefined when not forced. */
  forcedBy?: string;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes)$/i.test(value.trim());
}

/**
 * Applies DESIGN.md's conditions. Whether an engine can run is decided
 * later by probing; this only says whether the job should be sandboxed.
 */
export function decide(input: DecisionInput): Decision {
  const image = input.agentConfig?.image;
  const conditions: Condition[] = [
    image
      ? {
          name: 'agent-config',
          ok: false,
          reason: `${AGENT_CONFIG_PATH} names a custom image (${image})`,
        }
      : {
          name: 'agent-config',
          ok: true,
          reason: `no custom image in ${AGENT_CONFIG_PATH}`,
        },
    { name: 'image', ...judgeImage(input.env.CI_JOB_IMAGE) },
    isTrue(input.env.GITLAB_CI) || isTrue(input.env.CI)
      ? {
          name: 'ci',
          ok: true,
          reason: 'running on a CI runner (GITLAB_CI/CI set)',
        }
      : {
          name: 'ci',
          ok: false,
          reason: 'not on a CI runner (neither GITLAB_CI nor CI is true)',
        },
  ];
  const failed = conditions.filter((c) => !c.ok);
  if (input.forcedBy) {
    const waived = failed.length
      ? `; waived: ${failed.map((c) => c.reason).join('; ')}`
      : '';
    return {
      apply: true,
      forcedBy: input.forcedBy,
      reason: `sandbox forced by ${input.forcedBy}${waived}`,
      conditions,
    };
  }
  if (failed.length) {
    return {
      apply: false,
      reason: failed.map((c) => c.reason).join('; '),
      conditions,
    };
  }
  return {
    apply: true,
    reason: conditions.map((c) => c.reason).join('; '),
    conditions,
  };
}
