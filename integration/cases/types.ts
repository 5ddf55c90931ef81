// The shape of a verdict case (see ../cases.ts).

export type Verdict = 'allowed' | 'refused';
/** Engines the table is run against; `none` has no gaps: no sandbox, no excuses. */
export type EngineName = 'srt' | 'kernel' | 'docker' | 'none';

/** An engine's known, documented deviation from the expected verdict. */
export interface Gap {
  observed: Verdict;
  why: string;
  /**
   * The deviation lets through what the policy refuses (fails OPEN): a
   * bug to fix, kept green only so the rest of the table stays readable.
   * The escape suite prints these loudly and fails on them when
   * FSBXT_ESCAPE_STRICT=1.
   */
  failsOpen?: boolean;
}

export interface VerdictCase {
  id: string;
  description: string;
  /** POSIX sh; helpers from scripts/flow/probe-lib.sh. */
  script: string;
  expected: Verdict;
  /** Names the test DNS server must never be asked while a sandbox runs. */
  neverQueried?: string[];
  /**
   * False when running it unsandboxed would change the host (e.g. /etc),
   * or when it attacks the sandbox's own machinery (its proxy's parser),
   * which does not exist without a sandbox.
   */
  baseline?: boolean;
  /**
   * Why a job container refuses the attempt by itself, without any sandbox
   * (Docker's device cgroup, say). In a container the baseline accepts that
   * refusal and logs it: there, an engine's refusal of it proves nothing.
   */
  containerRefuses?: string;
  gaps?: Partial<Record<EngineName, Gap>>;
}
