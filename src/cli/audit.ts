import type { Context } from '../context.js';
import type { Decision } from '../decision/decide.js';
import type { Engine, RunOutcome } from '../engines/types.js';
import { SandboxError } from '../errors.js';
import type { EngineChoice } from '../plan/types.js';
import { writeArtifact, type Artifact } from '../report/artifact.js';
import { buildAuditReport, type AuditReport } from '../report/audit.js';
import type { Prepared } from './prepare.js';

/**
 * Refuses `--audit` where it would mean nothing: an audit needs an engine
 * that sees each connection and can let it through. Runs before anything
 * is applied, so the command has not run.
 */
export function checkAuditEngine(
  engine: Engine,
  choice: EngineChoice,
  decision: Decision,
): void {
  if (engine.supportsAudit) return;
  const why = decision.apply
    ? choice.reason
    : `the sandbox does not apply to this job (${decision.reason}); add --force-sandbox to audit anyway`;
  throw new SandboxError(
    'USAGE',
    `--audit cannot be honoured with engine ${engine.name}: it cannot see or let through single connections (${why}); the command was not run. Audit works with the srt engine.`,
  );
}

function logReport(ctx: Context, report: AuditReport): void {
  const n = report.wouldBeRefused.length;
  ctx.log.warn(
    `audit: ${n} destination(s) would have been refused under enforcement${n ? ' and were let through' : ''}`,
    { run: report.runId },
  );
  for (const f of report.wouldBeRefused) {
    ctx.log.warn(
      `audit: would refuse ${f.destination} (${f.count}x): ${f.reason}`,
    );
  }
  for (const f of report.refusedInAudit) {
    ctx.log.warn(
      `audit: refused even in audit mode: ${f.destination} (${f.count}x): ${f.reason}`,
    );
  }
  for (const s of report.notSuggested) {
    ctx.log.warn(
      `audit: ${s.destination} is not in the suggested policy: ${s.reason}`,
    );
  }
  if (n > 0) {
    ctx.log.block(
      'info',
      'audit: a network_policy for .gitlab/duo/agent-config.yml (on the default branch) that allows exactly these:',
      report.snippet.replace(/\n$/, '').split('\n'),
    );
  }
}

/** Reports what an audit run saw: in the job log, and as JSON with --audit-report. */
export async function reportAudit(
  ctx: Context,
  prepared: Prepared,
  run: { runId: string; engine: string; outcome: RunOutcome },
  artifact?: Artifact,
): Promise<void> {
  if (!run.outcome.audit) {
    ctx.log.error(
      `audit: engine ${run.engine} returned no audit findings; nothing can be reported`,
    );
    return;
  }
  const report = buildAuditReport({
    runId: run.runId,
    engine: run.engine,
    observations: run.outcome.audit,
    policy: prepared.policy,
    operator: prepared.operator,
    project: prepared.project,
  });
  logReport(ctx, report);
  if (artifact) {
    await writeArtifact(artifact, `${JSON.stringify(report, null, 2)}\n`);
    ctx.log.info(`audit: findings written to ${artifact.file}`);
  }
}
