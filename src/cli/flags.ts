import { Option, type Command } from 'commander';
import { ENGINE_NAMES } from '../engines/select.js';
import { LOG_FORMATS, LOG_LEVELS } from '../log/logger.js';

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  value,
];

/** The options `run` and `selftest` share, each with its variable. */
export function withRunOptions(command: Command): Command {
  return command
    .option('--config <file>', 'YAML policy file (FLOW_SANDBOX_CONFIG)')
    .option(
      '--operator-policy <file>',
      "the runner operator's policy: strongest source, its denials always win (FLOW_SANDBOX_OPERATOR_POLICY)",
    )
    .option(
      '--audit',
      'apply the sandbox but let through, and report, what the policy would refuse (FLOW_SANDBOX_AUDIT)',
    )
    .option(
      '--audit-report <file>',
      'with --audit: also write the findings as JSON to FILE (FLOW_SANDBOX_AUDIT_REPORT)',
    )
    .option(
      '--selftest',
      'before the job, prove the sandbox refuses an outside host, other DNS servers, ~/.ssh and writes outside the allowed paths (FLOW_SANDBOX_SELFTEST)',
    )
    .option(
      '--selftest-address <ip>',
      'the outside address the self-test must fail to reach; default 192.0.2.1 (FLOW_SANDBOX_SELFTEST_ADDRESS)',
    )
    .option(
      '--report <file>',
      'write the end-of-run report (engine, level, what was blocked) as JSON to FILE (FLOW_SANDBOX_REPORT)',
    )
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
    );
}
