import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from '../context.js';
import { decide, type Decision } from '../decision/decide.js';
import { levelRank, type Level } from '../engines/types.js';
import { buildPolicy } from '../policy/build.js';
import { checkLinks, type LinkedFile } from '../policy/links.js';
import { pathUnder } from '../policy/paths.js';
import { loadOperatorPolicy, type OperatorPolicy } from '../policy/operator.js';
import {
  loadProjectConfig,
  type ProjectConfig,
} from '../policy/project-source.js';
import type { Policy, RefusedRule } from '../policy/types.js';
import type { PolicySourceSummary } from '../plan/types.js';
import type { RunOptions } from './options.js';

/** Everything the run decided before choosing an engine. */
export interface Prepared {
  policy: Policy;
  decision: Decision;
  /** The stronger of --minimum-level and the operator's minimum_level. */
  minimumLevel: Level;
  operator?: OperatorPolicy;
  project: ProjectConfig;
  sources: PolicySourceSummary[];
  /** Files of the writable paths linked from outside them: copied before a sandboxed run. */
  linkedIn: LinkedFile[];
  /** Why the search for links stopped early: a sandboxed run refuses to start. */
  linkSearchIncomplete?: string;
}

function effectiveMinimum(options: RunOptions, op?: OperatorPolicy) {
  const fromOperator = op?.minimumLevel;
  if (
    !fromOperator ||
    levelRank(fromOperator) <= levelRank(options.minimumLevel)
  )
    return {
      level: options.minimumLevel,
      by: `--minimum-level ${options.minimumLevel}`,
    };
  return {
    level: fromOperator,
    by: `minimum_level ${fromOperator} in ${op!.file}`,
  };
}

function logProject(ctx: Context, project: ProjectConfig): void {
  const v = project.version;
  if (v.kind === 'ignored') {
    ctx.log.warn(`PROJECT POLICY IGNORED: ${v.reason}`);
    return;
  }
  ctx.log.info(
    `project configuration: ${v.present ? v.label : `no ${v.label}`}: ${v.reason}`,
    { ref: v.ref, commit: v.commit },
  );
  if (v.kind === 'commit' && project.workingTreeDiffers) {
    ctx.log.warn(
      `the working tree's agent configuration differs from the trusted version ${v.label}: its network_policy and image are ignored`,
    );
  }
}

/** Refused entries logged one by one; the rest are counted (the dry run lists all). */
const REFUSED_SHOWN = 20;

/** One line per refused entry; recommended ones grouped by reason (there are dozens). */
function logRefused(ctx: Context, policy: Policy): void {
  const grouped = new Map<string, string[]>();
  const single: RefusedRule[] = [];
  for (const r of policy.refused) {
    if (r.source.kind !== 'recommended') {
      single.push(r);
      continue;
    }
    const entries = grouped.get(r.reason) ?? [];
    grouped.set(r.reason, entries);
    entries.push(r.raw);
  }
  for (const r of single.slice(0, REFUSED_SHOWN)) {
    ctx.log.warn(
      `refused ${r.field} entry ${r.raw} from ${r.source.kind} (${r.source.origin}): ${r.reason}`,
    );
  }
  if (single.length > REFUSED_SHOWN) {
    ctx.log.warn(
      `refused ${single.length - REFUSED_SHOWN} more entries, not shown one by one; \`flow-sandbox run --dry-run\` lists every refused rule with its source and reason`,
    );
  }
  for (const [reason, entries] of grouped) {
    ctx.log.warn(
      `refused ${entries.length} recommended allow entries (${entries.join(', ')}): ${reason}`,
    );
  }
}

function summarize(
  options: RunOptions,
  op: OperatorPolicy | undefined,
  project: ProjectConfig,
): PolicySourceSummary[] {
  const v = project.version;
  const np = project.config?.network_policy;
  return [
    {
      kind: 'operator',
      detail: op
        ? `${op.file} (mode ${op.mode}: ${op.mode === 'strict' ? 'other sources may only narrow it' : 'other sources may add entries it does not deny'})`
        : 'none (no --operator-policy or FLOW_SANDBOX_OPERATOR_POLICY)',
    },
    {
      kind: 'project',
      detail: `${v.label}${v.commit ? ` commit ${v.commit}` : ''}: ${np ? 'network_policy used' : v.present ? 'no network_policy' : 'no file'}; ${v.reason}`,
    },
    { kind: 'config', detail: options.config ?? 'none' },
    {
      kind: 'flags',
      detail: `${options.allow.entries.length} allow (${options.allow.source.origin}), ${options.deny.entries.length} deny (${options.deny.source.origin})`,
    },
    {
      kind: 'default',
      detail:
        'built in, and the instance host from CI_SERVER_HOST or CI_SERVER_URL',
    },
  ];
}

/**
 * Reads every policy source, merges them and decides whether the sandbox
 * applies. The project's configuration (network_policy and image) is the
 * version this run may trust; the operator's file is read from the path
 * the operator gave, never from the project.
 */
export async function preparePolicy(
  ctx: Context,
  options: RunOptions,
): Promise<Prepared> {
  const operator = options.operatorPolicy
    ? await loadOperatorPolicy(path.resolve(ctx.cwd, options.operatorPolicy))
    : undefined;
  const project = await loadProjectConfig(ctx);
  logProject(ctx, project);
  const home = ctx.env.HOME || os.homedir();
  const policy = await buildPolicy({
    env: ctx.env,
    base: { home, cwd: ctx.cwd },
    configFile: options.config,
    allow: [options.allow],
    deny: [options.deny],
    operator,
    project,
  });
  logRefused(ctx, policy);
  const minimum = effectiveMinimum(options, operator);
  const forcedBy = options.forceSandbox
    ? '--force-sandbox'
    : minimum.level !== 'none'
      ? minimum.by
      : undefined;
  const decision = decide({
    env: ctx.env,
    agentConfig: project.config,
    agentConfigLabel: project.version.label,
    forcedBy,
    requireForCustomImages: operator?.requireSandboxForCustomImages
      ? `require_sandbox_for_custom_images in ${operator.file}`
      : undefined,
  });
  // Engines judge paths, not files: hard links to denied files (a key
  // linked into the checkout) are denied under their other names too, and
  // files linked in from outside the writable paths are found to be copied.
  const linked = await checkLinks(policy, ctx.cwd);
  for (const warning of linked.warnings) ctx.log.warn(warning);
  if (decision.apply)
    for (const warning of missingWritable(policy)) ctx.log.warn(warning);
  return {
    policy: linked.policy,
    linkedIn: linked.linkedIn,
    ...(linked.incomplete ? { linkSearchIncomplete: linked.incomplete } : {}),
    decision,
    minimumLevel: minimum.level,
    operator,
    project,
    sources: summarize(options, operator, project),
  };
}

/**
 * allow_write paths missing when the run starts, outside every other
 * writable path: engines make writable what exists, so the command finds
 * no way to create them.
 */
function missingWritable(policy: Policy): string[] {
  const { allowWrite } = policy.filesystem;
  return allowWrite
    .filter(
      (rule) =>
        !existsSync(rule.path) &&
        !allowWrite.some(
          (other) =>
            other.path !== rule.path &&
            pathUnder(rule.path, other.path) &&
            existsSync(other.path),
        ),
    )
    .map(
      (rule) =>
        `allow_write ${rule.raw} (${rule.source.origin}): ${rule.path} does not exist when the run starts, so it is not writable in the sandbox and the command cannot create it; create it before the run`,
    );
}
