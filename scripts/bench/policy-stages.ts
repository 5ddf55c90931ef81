// Where the policy share of a run's setup goes, stage by stage: one fresh
// Node process per sample (cold, as the CLI is), timing in-process what a
// run does between reading --config and loading the firewall. Pure work:
// no root, nothing on the host changes.
//
//   node dist/scripts/bench/policy-stages.js FILE   (one sample, JSON out)
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createKernelEngine } from '../../src/engines/kernel/engine.js';
import { DEFAULT_KERNEL_OPTIONS } from '../../src/engines/kernel/options.js';
import { buildKernelPlan } from '../../src/engines/kernel/plan.js';
import type { PlanInput } from '../../src/engines/types.js';
import { defaultPolicy } from '../../src/policy/defaults.js';
import { emptyLayer, layerFromFile } from '../../src/policy/layer.js';
import { parseYamlText, validateDocument } from '../../src/policy/load.js';
import { mergePolicy } from '../../src/policy/merge.js';
import { FIELD_FORMS, PolicyFileSchema } from '../../src/policy/schema.js';
import { median } from './measure.js';

/** The stages, in the order a run goes through them. */
export const STAGES = [
  'read',
  'yaml',
  'schema',
  'entries',
  'merge',
  'kernel plan',
] as const;
type Stage = (typeof STAGES)[number];

const PROBE = {
  engine: 'kernel' as const,
  usable: true,
  checks: [],
  facts: { ip: '/usr/sbin/ip', nft: '/usr/sbin/nft', sh: '/bin/sh' },
};

/** One cold sample: each stage's milliseconds. */
async function sample(file: string): Promise<Record<Stage, number>> {
  const times = {} as Record<Stage, number>;
  let last = performance.now();
  const lap = (stage: Stage) => {
    const now = performance.now();
    times[stage] = now - last;
    last = now;
  };
  const base = { home: '/root', cwd: '/tmp' };
  const text = await readFile(file, 'utf8');
  lap('read');
  const data = await parseYamlText(text);
  lap('yaml');
  const parsed = validateDocument(PolicyFileSchema, data, file, FIELD_FORMS);
  lap('schema');
  const layer = layerFromFile(parsed, file, 'config', base);
  lap('entries');
  const policy = mergePolicy({
    defaults: defaultPolicy({ CI_SERVER_HOST: 'gitlab.test' }, base),
    layers: [layer, emptyLayer()],
  });
  lap('merge');
  // A run plans twice: the plan it logs, then with the slot it claims.
  const input: PlanInput = {
    runId: 'a1b2c3d4',
    policy,
    command: { argv: ['true'], cwd: '/tmp', env: { HOME: '/root' } },
    stateDir: '/run/flow-sandbox/a1b2c3d4',
    probe: PROBE,
  };
  createKernelEngine().plan(input);
  buildKernelPlan(input, DEFAULT_KERNEL_OPTIONS, 1, true);
  lap('kernel plan');
  return times;
}

/** Medians per stage over `rounds` fresh processes. */
export function policyStages(
  file: string,
  rounds: number,
): Record<Stage, number> {
  const script = fileURLToPath(import.meta.url);
  const samples = Array.from({ length: rounds }, () => {
    const result = spawnSync(process.execPath, [script, file], {
      encoding: 'utf8',
    });
    if (result.status !== 0)
      throw new Error(`policy stages failed: ${result.stderr.slice(-500)}`);
    return JSON.parse(result.stdout) as Record<Stage, number>;
  });
  return Object.fromEntries(
    STAGES.map((s) => [s, median(samples.map((x) => x[s]))]),
  ) as Record<Stage, number>;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${JSON.stringify(await sample(process.argv[2]!))}\n`);
}
