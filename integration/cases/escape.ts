// THE escape suite: every way out of the sandbox we could think of, each
// with the verdict the policy gives it (the default policy with
// CI_SERVER_HOST=gitlab.test) and why. Run against every engine by
// integration/escape.test.ts; run without a sandbox (the baseline), every
// case with `baseline` unset gets through, so a refusal under a sandbox is
// the sandbox's doing. Gaps marked `failsOpen` are escapes still open.
import { ESCAPE_LOCAL_CASES } from './escape-local.js';
import { ESCAPE_NAME_CASES } from './escape-names.js';
import { ESCAPE_NETWORK_CASES } from './escape-network.js';
import { ESCAPE_PROCESS_CASES } from './escape-process.js';
import type { EscapeCase } from './escape-types.js';

export type { EscapeCase, HostCheck } from './escape-types.js';

/** Every escape case, in the order the flow runs them. */
export const ESCAPE_CASES: readonly EscapeCase[] = [
  ...ESCAPE_NETWORK_CASES,
  ...ESCAPE_NAME_CASES,
  ...ESCAPE_LOCAL_CASES,
  ...ESCAPE_PROCESS_CASES,
];
