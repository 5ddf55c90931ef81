/** Exit status for flow-sandbox's own failures: the command did not run. */
export const EXIT_SANDBOX_FAILURE = 125;

/** Stable codes a caller, a test or an SRE's grep can rely on. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'POLICY_INVALID'
  | 'LEVEL_NOT_MET'
  | 'ENGINE_UNAVAILABLE'
  | 'APPLY_FAILED'
  | 'COMMAND_FAILED'
  | 'INTERNAL';

/** What was being done when an error happened, for the message and the log. */
export interface ErrorContext {
  step?: string;
  argv?: readonly string[];
  exitCode?: number;
  stderrTail?: string;
  field?: string;
  value?: unknown;
  accepted?: string;
}

/** The one error class flow-sandbox throws on purpose. */
export class SandboxError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; context?: ErrorContext } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'SandboxError';
    this.code = code;
    this.context = options.context ?? {};
  }
}

/** A bad value in user input: names the field, the value and the accepted form. */
export function invalidInput(
  code: 'CONFIG_INVALID' | 'USAGE' | 'POLICY_INVALID',
  field: string,
  value: unknown,
  accepted: string,
  why?: string,
): SandboxError {
  const shown = JSON.stringify(value);
  const reason = why ? ` (${why})` : '';
  return new SandboxError(
    code,
    `${field}: ${shown} is not accepted${reason}; expected ${accepted}`,
    { context: { field, value, accepted } },
  );
}

/** The message of anything thrown, with its causes, for a log line. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message];
  let cause = error.cause;
  while (cause instanceof Error) {
    parts.push(cause.message);
    cause = cause.cause;
  }
  return parts.join(': ');
}
