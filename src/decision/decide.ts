import type { AgentConfig } from '../policy/agent-config.js';
import { AGENT_CONFIG_PATH } from '../policy/agent-config.js';
import { DEFAULT_IMAGE, judgeImage, parseImageRef } from './image.js';

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
  /** Which version of the agent configuration was read, for the reason. */
  agentConfigLabel?: string;
  /**
   * Set (to the rule's origin) when the operator requires the sandbox for
   * custom images too; GitLab itself sandboxes only its default image.
   */
  requireForCustomImages?: string;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes)$/i.test(value.trim());
}

/** Whether a job image is something other than GitLab's default image. */
function isCustomImage(ref: string | undefined): boolean {
  return !ref || parseImageRef(ref).repository !== DEFAULT_IMAGE;
}

/**
 * The operator's `require_sandbox_for_custom_images` turns the two image
 * conditions into passes when the image is a custom one. An old default
 * image is not custom: it lacks what the sandbox needs, so it still fails.
 */
function waiveCustomImage(
  conditions: Condition[],
  jobImage: string | undefined,
  rule: string,
): void {
  for (const c of conditions) {
    const custom =
      c.name === 'agent-config' ||
      (c.name === 'image' && isCustomImage(jobImage));
    if (!c.ok && custom) {
      c.ok = true;
      c.reason = `${c.reason}; the sandbox applies anyway: ${rule} requires it for custom images`;
    }
  }
}

/**
 * Applies DESIGN.md's conditions. Whether an engine can run is decided
 * later by probing; this only says whether the job should be sandboxed.
 */
export function decide(input: DecisionInput): Decision {
  const image = input.agentConfig?.image;
  const where = input.agentConfigLabel ?? AGENT_CONFIG_PATH;
  const conditions: Condition[] = [
    image
      ? {
          name: 'agent-config',
          ok: false,
          reason: `${where} names a custom image (${image})`,
        }
      : {
          name: 'agent-config',
          ok: true,
          reason: `no custom image in ${where}`,
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
  if (input.requireForCustomImages) {
    waiveCustomImage(
      conditions,
      input.env.CI_JOB_IMAGE,
      input.requireForCustomImages,
    );
  }
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
