import { parseAgentConfig } from '../../src/policy/agent-config.js';
import { buildPolicy, type EntryList } from '../../src/policy/build.js';
import { parseOperatorPolicy } from '../../src/policy/operator.js';
import type { ProjectConfig } from '../../src/policy/project-source.js';
import { formatRule, type Policy } from '../../src/policy/types.js';

export const BASE = { home: '/home/job', cwd: '/builds/p' };
export const ENV = { CI_SERVER_HOST: 'gitlab.test' };

/** A project configuration as if read from a commit. */
export async function project(
  yaml: string,
  commit = 'a'.repeat(40),
): Promise<ProjectConfig> {
  const label = `.gitlab/duo/agent-config.yml@${commit.slice(0, 12)} (origin/main)`;
  return {
    config: await parseAgentConfig(yaml, label),
    version: {
      kind: 'commit',
      ref: 'refs/remotes/origin/main',
      commit,
      present: true,
      reason: 'test',
      label,
    },
  };
}

export const operator = async (yaml: string) =>
  parseOperatorPolicy(yaml, '/etc/flow-sandbox/operator.yml');

const flags = (entries: string[]): EntryList[] => [
  { entries, source: { kind: 'flag', origin: '--allow' } },
];

/** Builds a policy from YAML snippets and flag entries. */
export async function merged(options: {
  operator?: string;
  project?: string;
  allow?: string[];
  deny?: string[];
  configFile?: string;
}): Promise<Policy> {
  return buildPolicy({
    env: ENV,
    base: BASE,
    allow: flags(options.allow ?? []),
    deny: [
      {
        entries: options.deny ?? [],
        source: { kind: 'flag', origin: '--deny' },
      },
    ],
    operator:
      options.operator === undefined
        ? undefined
        : await operator(options.operator),
    project:
      options.project === undefined
        ? undefined
        : await project(options.project),
    configFile: options.configFile,
  });
}

/** The allow list as `entry<-kind` strings. */
export const allowed = (p: Policy) =>
  p.network.allow.map((r) => `${formatRule(r)}<-${r.source.kind}`);

export const refusedRaw = (p: Policy) => p.refused.map((r) => r.raw);
