// THE table of verdict cases: every engine (SRT, kernel, Docker) is run
// against it, so "one policy, one meaning" is checked, not hoped for.
//
// Each script runs inside the sandbox with scripts/flow/probe-lib.sh loaded
// and prints "allowed" when the action observably happened (the HTTP body
// names the host asked for, the secret was read, the file was written) and
// "refused" otherwise. Run without a sandbox in the test network (the
// baseline), every case observes "allowed": a refusal under a sandbox is
// therefore the sandbox's doing, never a broken test host or missing tool.
//
// The policy under test is the default one with CI_SERVER_HOST=gitlab.test.

import { CLIENT_CASES } from './cases/clients.js';
import { LOCAL_CASES } from './cases/local.js';
import { NETWORK_CASES } from './cases/network.js';
import type { EngineName, Verdict, VerdictCase } from './cases/types.js';

export type { EngineName, Gap, Verdict, VerdictCase } from './cases/types.js';

/** The table, in the order the flow runs it. */
export const CASES: readonly VerdictCase[] = [
  ...NETWORK_CASES,
  ...CLIENT_CASES,
  ...LOCAL_CASES,
];

/** The verdict an engine is expected to show, its documented gap included. */
export function expectedFor(c: VerdictCase, engine: EngineName): Verdict {
  return c.gaps?.[engine]?.observed ?? c.expected;
}
