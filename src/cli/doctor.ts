import type { Context } from '../context.js';
import { ENGINES } from '../engines/select.js';
import type { ProbeResult } from '../engines/types.js';

/** Probes every engine and prints what is missing and how to fix it. */
export async function doctorCommand(
  ctx: Context,
  json: boolean,
): Promise<number> {
  const results: ProbeResult[] = [];
  for (const engine of ENGINES) {
    if (engine.name === 'none') continue;
    results.push(await engine.probe(ctx, { deep: true }));
  }
  const srtOk = results.some((r) => r.engine === 'srt' && r.usable);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ ok: srtOk, engines: results }, null, 2)}\n`,
    );
    return srtOk ? 0 : 1;
  }
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`${result.engine}: ${result.usable ? 'can run' : 'CANNOT run'}`);
    for (const check of result.checks) {
      lines.push(
        `  [${check.ok ? 'ok' : 'FAIL'}] ${check.name}: ${check.detail}`,
      );
      if (!check.ok && check.fix) lines.push(`         fix: ${check.fix}`);
    }
  }
  const kernelOk = results.some((r) => r.engine === 'kernel' && r.usable);
  lines.push(
    srtOk
      ? 'SRT can run: jobs get the full sandbox.'
      : kernelOk
        ? 'SRT cannot run here: jobs get the kernel engine (--engine auto), or fail with --minimum-level srt.'
        : 'SRT cannot run here, nor the kernel engine: jobs run WITHOUT a sandbox (with a loud warning), or fail with a --minimum-level.',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return srtOk ? 0 : 1;
}
