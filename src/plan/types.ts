import type { Decision } from '../decision/decide.js';
import type {
  EngineName,
  EnginePlan,
  Level,
  ProbeResult,
} from '../engines/types.js';
import type { LinkedFile } from '../policy/links.js';
import type { Policy } from '../policy/types.js';

/** Why an engine was chosen, with every candidate's probe. */
export interface EngineChoice {
  chosen: EngineName;
  reason: string;
  requested: 'auto' | EngineName;
  minimumLevel: Level;
  candidates: ProbeResult[];
  /** Set when the run falls back to no sandbox. */
  fallbackWarning?: string;
}

/** One policy source as the run used it, strongest first. */
export interface PolicySourceSummary {
  kind: 'operator' | 'project' | 'config' | 'flags' | 'default';
  /** e.g. `/etc/flow-sandbox/operator.yml (strict)`, the project file's version. */
  detail: string;
}

/** The whole plan of one run: what a dry run prints. */
export interface RunPlan {
  runId: string;
  decision: Decision;
  policy: Policy;
  engine: EngineChoice;
  command: { argv: string[]; cwd: string };
  stateDir: string;
  enginePlan: EnginePlan;
  /** Where the policy came from, strongest first. */
  sources?: PolicySourceSummary[];
  /** Set for `--audit` runs. */
  audit?: boolean;
  /**
   * Files of the writable paths that are also linked from outside them:
   * each gets a copy of its own before a sandboxed command starts.
   */
  linkedIn?: LinkedFile[];
  /** Set when the search for links stopped early: the run refuses to start. */
  linkSearchIncomplete?: string;
}
