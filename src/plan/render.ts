import { formatRule } from '../policy/types.js';
import type { NetworkRule, PathRule, Policy } from '../policy/types.js';
import type { RunPlan } from './types.js';

/** How many linked-in files the text plan names; the JSON plan has all. */
const LISTED_LINKED_FILES = 20;

const origin = (r: { source: { kind: string; origin: string } }) =>
  `${r.source.kind}: ${r.source.origin}`;

/** The plan as plain JSON: what `--dry-run --json` prints. */
export function planToJson(plan: RunPlan): unknown {
  const rule = (r: NetworkRule) => ({
    entry: formatRule(r),
    raw: r.raw,
    source: r.source,
  });
  const path = (p: PathRule) => ({
    path: p.path,
    raw: p.raw,
    source: p.source,
  });
  const { network: n, filesystem: f } = plan.policy;
  return {
    runId: plan.runId,
    decision: plan.decision,
    policy: {
      network: {
        allow: n.allow.map(rule),
        deny: n.deny.map(rule),
        unixSockets: n.unixSockets.map(path),
        denyUnixSockets: n.denyUnixSockets.map(path),
        allowAllUnixSockets: n.allowAllUnixSockets,
        allowLocalBinding: n.allowLocalBinding,
      },
      filesystem: {
        denyRead: f.denyRead.map(path),
        allowWrite: f.allowWrite.map(path),
        denyWrite: f.denyWrite.map(path),
        allowGitConfig: f.allowGitConfig,
      },
      refused: plan.policy.refused,
    },
    sources: plan.sources ?? [],
    audit: plan.audit ?? false,
    engine: plan.engine,
    command: plan.command,
    stateDir: plan.stateDir,
    enginePlan: plan.enginePlan,
    linkedIn: plan.linkedIn ?? [],
    ...(plan.linkSearchIncomplete
      ? { linkSearchIncomplete: plan.linkSearchIncomplete }
      : {}),
  };
}

function policyLines(policy: Policy): string[] {
  const n = policy.network;
  const f = policy.filesystem;
  const rules = (title: string, list: NetworkRule[]) => [
    `  ${title}:${list.length ? '' : ' (none)'}`,
    ...list.map((r) => `    ${formatRule(r).padEnd(36)} from ${origin(r)}`),
  ];
  const paths = (title: string, list: PathRule[]) => [
    `  ${title}:${list.length ? '' : ' (none)'}`,
    ...list.map((p) => `    ${p.path.padEnd(36)} from ${origin(p)}`),
  ];
  return [
    'Network:',
    ...rules('allow', n.allow),
    ...rules('deny (wins over allow)', n.deny),
    ...paths('unix sockets', n.unixSockets),
    ...(n.denyUnixSockets.length
      ? paths(
          'denied unix sockets (win over every allowance)',
          n.denyUnixSockets,
        )
      : []),
    `  all unix sockets: ${n.allowAllUnixSockets.value} (${origin(n.allowAllUnixSockets)})`,
    `  local binding: ${n.allowLocalBinding.value} (${origin(n.allowLocalBinding)})`,
    'Filesystem:',
    ...paths('deny read', f.denyRead),
    ...paths('allow write', f.allowWrite),
    ...paths('deny write', f.denyWrite),
    `  git config readable: ${f.allowGitConfig.value} (${origin(f.allowGitConfig)})`,
    ...(policy.refused.length
      ? [
          'Refused rules:',
          ...policy.refused.map(
            (r) =>
              `  ${r.field} ${r.raw} from ${r.source.kind}: ${r.source.origin}: ${r.reason}`,
          ),
        ]
      : []),
  ];
}

/** The plan as text for an SRE reading a job log or a terminal. */
export function planToText(plan: RunPlan): string {
  const e = plan.engine;
  const lines = [
    `flow-sandbox plan (run ${plan.runId}, dry run: nothing was changed on this host)`,
    '',
    `Decision: ${plan.decision.apply ? 'sandbox applies' : 'sandbox does not apply'}`,
    `  ${plan.decision.reason}`,
    ...plan.decision.conditions.map(
      (c) => `  [${c.ok ? 'ok' : 'no'}] ${c.name}: ${c.reason}`,
    ),
    '',
    `Engine: ${e.chosen} (requested ${e.requested}, minimum level ${e.minimumLevel})`,
    `  ${e.reason}`,
    ...e.candidates.flatMap((c) => [
      `  ${c.engine}: ${c.usable ? 'usable' : 'not usable'}`,
      ...c.checks.map(
        (k) =>
          `    [${k.ok ? 'ok' : 'FAIL'}] ${k.name}: ${k.detail}${k.fix && !k.ok ? ` (fix: ${k.fix})` : ''}`,
      ),
    ]),
    ...(e.fallbackWarning ? [`  WARNING: ${e.fallbackWarning}`] : []),
    '',
    ...(plan.audit
      ? [
          'AUDIT MODE: what the policy would refuse for not being allowed is let through and reported',
          '',
        ]
      : []),
    ...(plan.sources?.length
      ? [
          'Policy sources (strongest first):',
          ...plan.sources.map((s) => `  ${s.kind}: ${s.detail}`),
          '',
        ]
      : []),
    ...policyLines(plan.policy),
    '',
    ...(plan.linkSearchIncomplete
      ? [
          `WARNING: the run will refuse to start: ${plan.linkSearchIncomplete}`,
          '',
        ]
      : []),
    ...(plan.linkedIn?.length
      ? [
          'Files linked in from outside the writable paths (each gets a copy of its own before the command starts):',
          ...plan.linkedIn
            .slice(0, LISTED_LINKED_FILES)
            .map((f) => `  ${f.paths.join(', ')} (${f.links} names in all)`),
          ...(plan.linkedIn.length > LISTED_LINKED_FILES
            ? [
                `  ... and ${plan.linkedIn.length - LISTED_LINKED_FILES} more (--json lists them all)`,
              ]
            : []),
          '',
        ]
      : []),
    `Command: ${JSON.stringify(plan.command.argv)} in ${plan.command.cwd}`,
    `State directory: ${plan.stateDir}`,
    '',
    `Engine plan (${plan.enginePlan.engine}):`,
    ...plan.enginePlan.warnings.map((w) => `  WARNING: ${w}`),
    ...Object.entries(plan.enginePlan.details).flatMap(([key, value]) =>
      typeof value === 'string' && value.includes('\n')
        ? [
            `  ${key}:`,
            ...value
              .trimEnd()
              .split('\n')
              .map((l) => `    ${l}`),
          ]
        : [
            `  ${key}: ${JSON.stringify(value, null, 2).split('\n').join('\n    ')}`,
          ],
    ),
  ];
  return `${lines.join('\n')}\n`;
}
