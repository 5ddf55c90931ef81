// Build time only (scripts/bundle.mjs, through entry.ts): runs the code
// every run takes once, so that the start-up snapshot holds it compiled,
// not just loaded. Only pure steps: nothing here starts a process, opens
// a socket or writes a file, and nothing is kept but compiled code.
import { srtEngine } from '../engines/srt/engine.js';
import type { PlanInput, ProbeResult } from '../engines/types.js';
import { buildPolicy } from '../policy/build.js';
import { parsePolicyFile } from '../policy/load.js';
import { program } from './main.js';

const facts: Record<string, string> = {
  bwrap: '/usr/bin/bwrap',
  socat: '/usr/bin/socat',
  rg: '/usr/bin/rg',
  nft: '/usr/sbin/nft',
  ip: '/usr/sbin/ip',
};

/** Flags, policy and both engines' plans for a typical job. */
export async function warmUp(): Promise<void> {
  // Parsing stops at the unknown option, before any action runs.
  await program(() => undefined)
    .parseAsync(['run', '--engine', 'auto', '--fsbx-warm-up', '--', 'true'], {
      from: 'user',
    })
    .catch(() => undefined);
  // A policy file in YAML: the parser, loaded on first use, is then in
  // the snapshot too.
  await parsePolicyFile(
    'network:\n  allow:\n    - registry.example.com:443\n    - 192.0.2.1\n',
    'warm-up.yml',
  );
  const source = { kind: 'flag' as const, origin: '--allow' };
  const policy = await buildPolicy({
    env: { CI_SERVER_HOST: 'gitlab.example.com' },
    base: { home: '/root', cwd: '/builds/group/project' },
    allow: [{ entries: ['registry.example.com:443', '192.0.2.1'], source }],
    deny: [{ entries: ['*.evil.example'], source }],
  });
  // Evaluated here, the module a run loads on demand is in the snapshot.
  const { kernelEngine: kernel } = await import('../engines/kernel/engine.js');
  for (const engine of [srtEngine, kernel]) {
    const probe: ProbeResult = {
      engine: engine.name,
      usable: true,
      checks: [],
      facts,
    };
    const input: PlanInput = {
      runId: 'warmup00',
      policy,
      command: {
        argv: ['true'],
        cwd: '/builds/group/project',
        env: { HOME: '/root', PATH: '/usr/bin:/bin' },
      },
      stateDir: '/run/flow-sandbox/warmup00',
      probe,
      firewall: 'nft',
    };
    try {
      engine.plan(input);
    } catch {
      // A plan that needs more than this sketch gives is still compiled.
    }
  }
}
