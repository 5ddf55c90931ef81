import type {
  AuditObservations,
  ObservedDestination,
} from '../engines/types.js';
import { parseNetworkEntry } from '../policy/entries.js';
import { ruleMatches } from '../policy/match.js';
import { OperatorGate } from '../policy/merge.js';
import type { OperatorPolicy } from '../policy/operator.js';
import type { ProjectConfig } from '../policy/project-source.js';
import type { NetworkRule, Policy } from '../policy/types.js';

/** One destination in the audit report. */
export interface AuditFinding {
  /** As a network_policy entry: `host:port`, `[v6]:port`. */
  destination: string;
  host: string;
  port: number;
  count: number;
  reason: string;
}

/** What `--audit` reports: in the job log and, with --audit-report, as JSON. */
export interface AuditReport {
  runId: string;
  engine: string;
  /** Let through in audit; enforcement would have refused each. */
  wouldBeRefused: AuditFinding[];
  /** Refused in audit too: deny entries and the engine's own checks. */
  refusedInAudit: AuditFinding[];
  /** The project's allowed_domains after pasting the snippet. */
  suggestedAllowedDomains: string[];
  /** Entries the snippet leaves out, because the operator would refuse them. */
  notSuggested: { destination: string; reason: string }[];
  /** Ready to paste into .gitlab/duo/agent-config.yml on the default branch. */
  snippet: string;
}

/** A destination as a policy entry, exactly that host and port. */
export function destinationEntry(host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port ? `${h}:${port}` : h;
}

function why(policy: Policy, d: ObservedDestination): string {
  const dest = { host: d.host, port: d.port || undefined };
  for (const r of policy.refused) {
    if (r.field !== 'allow') continue;
    const rule = parseNetworkEntry(r.raw, r.field, r.source);
    if (ruleMatches(rule, dest)) {
      return `not on the allow list: ${r.source.kind} entry ${r.raw} (${r.source.origin}) was refused: ${r.reason}`;
    }
  }
  return 'not on the allow list';
}

const finding = (d: ObservedDestination, reason: string): AuditFinding => ({
  destination: destinationEntry(d.host, d.port),
  host: d.host,
  port: d.port,
  count: d.count,
  reason,
});

/** The project's own entries a stronger source refused, with the reason. */
function refusedProjectEntries(policy: Policy): Map<string, string> {
  return new Map(
    policy.refused
      .filter((r) => r.source.kind === 'project')
      .map((r) => [`${r.field}:${r.raw}`, r.reason]),
  );
}

function snippetText(
  project: ProjectConfig | undefined,
  policy: Policy,
  added: AuditFinding[],
  left: { destination: string; reason: string }[],
): string {
  const np = project?.config?.network_policy ?? {};
  const refused = refusedProjectEntries(policy);
  const q = (s: string) => JSON.stringify(s);
  const lines = ['network_policy:', '  allowed_domains:'];
  // A project entry the operator refused must not come back by pasting.
  for (const e of np.allowed_domains ?? []) {
    const why = refused.get(`allow:${e}`);
    lines.push(
      why
        ? `    # - ${q(e)} # refused: ${why}`
        : `    - ${q(e)} # already allowed`,
    );
  }
  for (const f of added)
    lines.push(`    - ${q(f.destination)} # seen ${f.count} time(s) in audit`);
  for (const n of left)
    lines.push(`    # - ${q(n.destination)} # not suggested: ${n.reason}`);
  if (np.denied_domains?.length) {
    lines.push('  denied_domains:');
    for (const e of np.denied_domains) lines.push(`    - ${q(e)}`);
  }
  for (const key of [
    'include_recommended_allowed',
    'allow_all_unix_sockets',
  ] as const) {
    if (np[key] === undefined) continue;
    const why = refused.get(`${key}:${String(np[key])}`);
    lines.push(
      why ? `  # ${key}: ${np[key]} # refused: ${why}` : `  ${key}: ${np[key]}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Why a destination cannot go into the suggested policy, if it cannot. */
function snippetRefusal(
  destination: string,
  gate: OperatorGate | undefined,
): string | undefined {
  let rule: NetworkRule;
  try {
    rule = parseNetworkEntry(destination, 'audit', {
      kind: 'project',
      origin: 'audit',
    });
  } catch {
    return 'not a valid network_policy entry';
  }
  return gate?.refusal(rule);
}

export interface AuditInput {
  runId: string;
  engine: string;
  observations: AuditObservations;
  policy: Policy;
  operator?: OperatorPolicy;
  project?: ProjectConfig;
}

/**
 * Turns what the engine saw into findings and a network_policy that
 * allows exactly them, keeping the project's own entries; an entry the
 * operator's policy would refuse is left out with the reason.
 */
export function buildAuditReport(input: AuditInput): AuditReport {
  const { policy, operator } = input;
  const wouldBeRefused = input.observations.letThrough.map((d) =>
    finding(d, why(policy, d)),
  );
  const refusedInAudit = input.observations.refused.map((d) =>
    finding(d, d.reason ?? 'refused'),
  );
  const ceiling = policy.network.allow.filter((r) =>
    ['default', 'operator'].includes(r.source.kind),
  );
  const gate = operator && new OperatorGate(operator, ceiling);
  const added: AuditFinding[] = [];
  const notSuggested: AuditReport['notSuggested'] = [];
  for (const f of wouldBeRefused) {
    const reason = snippetRefusal(f.destination, gate);
    if (reason) notSuggested.push({ destination: f.destination, reason });
    else added.push(f);
  }
  const refused = refusedProjectEntries(policy);
  const existing = (
    input.project?.config?.network_policy?.allowed_domains ?? []
  ).filter((e) => !refused.has(`allow:${e}`));
  return {
    runId: input.runId,
    engine: input.engine,
    wouldBeRefused,
    refusedInAudit,
    suggestedAllowedDomains: [...existing, ...added.map((f) => f.destination)],
    notSuggested,
    snippet: snippetText(input.project, policy, added, notSuggested),
  };
}
