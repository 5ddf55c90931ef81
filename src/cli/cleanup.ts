import type { Context } from '../context.js';
import { cleanupDeadRuns } from '../state/cleanup.js';
import { stateRoot } from '../state/dir.js';

/** `flow-sandbox cleanup`: 0 when everything dead was removed, 1 otherwise. */
export async function cleanupCommand(ctx: Context): Promise<number> {
  const root = stateRoot(ctx.env);
  const result = await cleanupDeadRuns(ctx, root);
  ctx.log.info(
    `cleanup of ${root}: removed ${result.removedRuns.length} dead run(s)${result.removedRuns.length ? ` (${result.removedRuns.join(', ')})` : ''}; left ${result.liveRuns.length} live run(s) alone`,
  );
  for (const failure of result.failures)
    ctx.log.error(`could not remove: ${failure}`);
  return result.failures.length ? 1 : 0;
}
