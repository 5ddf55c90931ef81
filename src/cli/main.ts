import { Command, CommanderError, Option } from 'commander';
import { hostContext } from '../context.js';
import { ENGINE_NAMES } from '../engines/select.js';
import type { ApplyControls } from '../engines/types.js';
import {
  describeError,
  EXIT_SANDBOX_FAILURE,
  SandboxError,
} from '../errors.js';
import { createLogger, LOG_FORMATS, LOG_LEVELS } from '../log/logger.js';
import { doctorCommand } from './doctor.js';
import { logOptions, resolveRunOptions, type RawFlags } from './options.js';
import { runCommand } from './run.js';

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  value,
];

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

function fail(error: unknown, format: 'text' | 'json'): number {
  const message =
    error instanceof SandboxError || error instanceof CommanderError
      ? error.message.replace(/^error: /, '')
      : `internal error: ${describeError(error)}`;
  const log = createLogger({ level: 'error', format });
  log.error(message, error instanceof SandboxError ? { code: error.code } : {});
  return EXIT_SANDBOX_FAILURE;
}

function program(onExit: (code: number) => void): Command {
  const root = new Command('flow-sandbox')
    .description(
      "Runs a CI job's command in a sandbox: allow-listed network, hidden SSH keys, writes only where allowed.",
    )
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  root
    .command('run')
    .description(
      'run COMMAND in the sandbox and exit with its status (125: flow-sandbox failed, nothing ran)',
    )
    .usage('[options] -- COMMAND [ARGS...]')
    .option('--config <file>', 'YAML policy file (FLOW_SANDBOX_CONFIG)')
    .option(
      '--allow <entry>',
      'add a network allow entry; repeatable (FLOW_SANDBOX_ALLOW, comma-separated)',
      collect,
    )
    .option(
      '--deny <entry>',
      'add a network deny entry; repeatable (FLOW_SANDBOX_DENY)',
      collect,
    )
    .option(
      '--engine <name>',
      `auto, ${ENGINE_NAMES.join(', ')} (FLOW_SANDBOX_ENGINE)`,
    )
    .option(
      '--minimum-level <level>',
      'refuse to run below this level: srt, kernel, none (FLOW_SANDBOX_MINIMUM_LEVEL)',
    )
    .option(
      '--firewall <backend>',
      'kernel engine firewall: auto, nft, iptables (FLOW_SANDBOX_FIREWALL)',
    )
    .option(
      '--force-sandbox',
      'apply the sandbox even where the job conditions say not to (FLOW_SANDBOX_FORCE_SANDBOX)',
    )
    .option(
      '--dry-run',
      'print the plan; run nothing, change nothing (FLOW_SANDBOX_DRY_RUN)',
    )
    .option(
      '--json',
      'with --dry-run: the plan as JSON on stdout (FLOW_SANDBOX_JSON)',
    )
    .addOption(
      new Option(
        '--log-level <level>',
        `${LOG_LEVELS.join(', ')} (FLOW_SANDBOX_LOG_LEVEL)`,
      ),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        `${LOG_FORMATS.join(', ')} (FLOW_SANDBOX_LOG_FORMAT)`,
      ),
    )
    .argument('[command...]')
    .exitOverride()
    .action(async (command: string[], flags: RawFlags) => {
      const env = { ...process.env };
      const options = resolveRunOptions(flags, env, command, ENGINE_NAMES);
      const log = createLogger({
        level: options.logLevel,
        format: options.logFormat,
      });
      const controls = signalControls();
      try {
        onExit(await runCommand(hostContext(log), options, controls));
      } finally {
        controls.dispose();
      }
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
