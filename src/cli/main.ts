import { Command, CommanderError } from 'commander';
import { VERSION } from './version.js';
import { hostContext } from '../context.js';
import { ENGINE_NAMES } from '../engines/select.js';
import type { ApplyControls } from '../engines/types.js';
import {
  describeError,
  EXIT_SANDBOX_FAILURE,
  SandboxError,
} from '../errors.js';
import { createLogger } from '../log/logger.js';
import { cleanupCommand } from './cleanup.js';
import { doctorCommand } from './doctor.js';
import { logOptions, resolveRunOptions, type RawFlags } from './options.js';
import { withRunOptions } from './flags.js';
import { runCommand, selftestCommand } from './run.js';

/** Runs `body` with SIGINT and SIGTERM turned into an abort. */
async function withSignals(
  body: (controls: ApplyControls) => Promise<number>,
): Promise<number> {
  const controls = signalControls();
  try {
    return await body(controls);
  } finally {
    controls.dispose();
  }
}

function signalControls(): ApplyControls & { dispose(): void } {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    received ??= signal;
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    abort: controller.signal,
    abortSignal: () => received,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Where to find the accepted forms, for mistakes in the command line. */
function usageHint(error: unknown): string {
  if (!(error instanceof CommanderError)) return '';
  return [
    'commander.unknownOption',
    'commander.unknownCommand',
    'commander.excessArguments',
    'commander.missingArgument',
    'commander.optionMissingArgument',
  ].includes(error.code)
    ? '; `flow-sandbox --help` and `flow-sandbox run --help` list what is accepted'
    : '';
}

function fail(error: unknown, format: 'text' | 'json'): number {
  const message =
    error instanceof SandboxError || error instanceof CommanderError
      ? error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ') +
        usageHint(error)
      : `internal error: ${describeError(error)}`;
  const log = createLogger({ level: 'error', format });
  log.error(message, error instanceof SandboxError ? { code: error.code } : {});
  return EXIT_SANDBOX_FAILURE;
}

export function program(onExit: (code: number) => void): Command {
  const root = new Command('flow-sandbox')
    .description(
      "Runs a CI job's command in a sandbox: allow-listed network, hidden SSH keys, writes only where allowed.",
    )
    .version(VERSION, '--version', 'print the version')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  withRunOptions(root.command('run'))
    .description(
      'run COMMAND in the sandbox and exit with its status (125: flow-sandbox failed, nothing ran)',
    )
    .usage('[options] -- COMMAND [ARGS...]')
    .argument('[command...]')
    .exitOverride()
    .action(async (command: string[], flags: RawFlags) => {
      const env = { ...process.env };
      const options = resolveRunOptions(flags, env, command, ENGINE_NAMES);
      const log = createLogger({
        level: options.logLevel,
        format: options.logFormat,
      });
      onExit(
        await withSignals((c) => runCommand(hostContext(log), options, c)),
      );
    });
  withRunOptions(root.command('selftest'))
    .description(
      'apply the policy and prove the sandbox refuses an outside host, other DNS servers, ~/.ssh and writes outside the allowed paths; exit 0 if every check passes, 1 if one fails, 125 if no sandbox can be applied',
    )
    .exitOverride()
    .action(async (flags: RawFlags) => {
      const options = {
        ...resolveRunOptions(flags, { ...process.env }, ['true'], ENGINE_NAMES),
        selftest: true,
        forceSandbox: true,
      };
      const log = createLogger({
        level: options.logLevel,
        format: options.logFormat,
      });
      onExit(
        await withSignals((c) => selftestCommand(hostContext(log), options, c)),
      );
    });
  root
    .command('doctor')
    .description(
      "probe each engine's prerequisites; exit 0 only if SRT can run",
    )
    .option('--json', 'print the findings as JSON')
    .exitOverride()
    .action(async (flags: { json?: boolean }) => {
      const log = createLogger({
        ...logOptions({}, process.env),
        level: 'warn',
        format: 'text',
      });
      onExit(await doctorCommand(hostContext(log), Boolean(flags.json)));
    });
  root
    .command('cleanup')
    .description(
      "remove what killed runs left behind (namespaces, links, firewall tables and chains, leases, SRT's sockets and helpers, state); never a live run's",
    )
    .exitOverride()
    .action(async () => {
      const { logLevel, logFormat } = logOptions({}, process.env);
      const log = createLogger({ level: logLevel, format: logFormat });
      onExit(await cleanupCommand(hostContext(log)));
    });
  // No subcommand: the usage, and a failure (a job line missing its
  // subcommand must not pass as a run).
  root.action(() => {
    process.stderr.write(root.helpInformation());
    throw new SandboxError(
      'USAGE',
      'a subcommand is needed: run, selftest, doctor or cleanup',
    );
  });
  return root;
}

/** CLI entry: parses argv, runs the subcommand, exits with its status. */
export async function main(argv: string[]): Promise<void> {
  let code = 0;
  let format: 'text' | 'json' = 'text';
  try {
    format = logOptions({}, process.env).logFormat;
  } catch {
    // An invalid FLOW_SANDBOX_LOG_FORMAT is reported by the run itself.
  }
  try {
    await program((c) => (code = c)).parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (
      error instanceof CommanderError &&
      [
        'commander.helpDisplayed',
        'commander.version',
        'commander.help',
      ].includes(error.code)
    ) {
      code = 0;
    } else {
      code = fail(error, format);
    }
  }
  process.exit(code);
}
