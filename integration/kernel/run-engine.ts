// Runs the kernel engine once, the way the CLI will: started by the tests
// inside the test's "runner" namespace, so the engine's veth, firewall and
// routes live there and never touch the host's own network.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostContext } from '../../src/context.js';
import { createKernelEngine } from '../../src/engines/kernel/engine.js';
import type { ApplyControls, PlanInput } from '../../src/engines/types.js';
import { createLogger } from '../../src/log/logger.js';
import { buildPolicy } from '../../src/policy/build.js';
import { cleanupDeadRuns } from '../../src/state/cleanup.js';

export interface EngineRunConfig {
  runId: string;
  firewall: 'nft' | 'iptables';
  allow: string[];
  deny: string[];
  argv: string[];
  cwd: string;
  home: string;
  stateDir: string;
  resolvConf: string;
  hostsFile: string;
  ttlFloorSec: number;
  outcomeFile: string;
  env?: Record<string, string>;
  configFile?: string;
}

async function main(config: EngineRunConfig): Promise<number> {
  const log = createLogger({ level: 'debug', format: 'text' });
  const ctx = hostContext(log);
  const controller = new AbortController();
  let signal: NodeJS.Signals | undefined;
  for (const name of ['SIGTERM', 'SIGINT'] as const) {
    process.on(name, () => {
      signal ??= name;
      controller.abort();
    });
  }
  const controls: ApplyControls = {
    abort: controller.signal,
    abortSignal: () => signal,
  };
  const env = { ...process.env, HOME: config.home, ...config.env } as Record<
    string,
    string
  >;
  const policy = await buildPolicy({
    env,
    base: { home: config.home, cwd: config.cwd },
    configFile: config.configFile,
    allow: [
      { entries: config.allow, source: { kind: 'flag', origin: '--allow' } },
    ],
    deny: [
      { entries: config.deny, source: { kind: 'flag', origin: '--deny' } },
    ],
  });
  const engine = createKernelEngine({
    ttlFloorSec: config.ttlFloorSec,
    resolvConf: config.resolvConf,
    hostsFile: config.hostsFile,
  });
  // As `flow-sandbox run` does: first remove what killed runs left.
  await cleanupDeadRuns(ctx, path.dirname(config.stateDir), config.runId);
  const probe = await engine.probe(ctx, { deep: false });
  const input: PlanInput = {
    runId: config.runId,
    policy,
    command: { argv: config.argv, cwd: config.cwd, env },
    stateDir: config.stateDir,
    probe,
    firewall: config.firewall,
  };
  const plan = engine.plan(input);
  const started = performance.now();
  const outcome = await engine.apply(ctx, input, plan, controls);
  const ms = performance.now() - started;
  writeFileSync(
    config.outcomeFile,
    JSON.stringify({ ...outcome, ms, plan: plan.details }),
  );
  return outcome.exitCode;
}

main(JSON.parse(process.argv[2]!) as EngineRunConfig).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `run-engine: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(125);
  },
);
