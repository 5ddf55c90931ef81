import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { invalidInput } from '../errors.js';
import type { EntryList } from '../policy/build.js';
import { LEVELS, type EngineName, type Level } from '../engines/types.js';
import {
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevel,
} from '../log/logger.js';

/** Everything `flow-sandbox run` was asked to do, validated. */
export interface RunOptions {
  config?: string;
  /** The runner operator's policy file; never read from the project. */
  operatorPolicy?: string;
  /** Let refused destinations through and report them. */
  audit: boolean;
  /** Where to write the audit findings as JSON. */
  auditReport?: string;
  /** Prove the sandbox refuses what it must before the job starts. */
  selftest: boolean;
  /** The address the self-test must fail to reach (and query as DNS). */
  selftestAddress?: string;
  /** Where to write the end-of-run report as JSON. */
  report?: string;
  allow: EntryList;
  deny: EntryList;
  engine: 'auto' | EngineName;
  minimumLevel: Level;
  firewall: 'auto' | 'nft' | 'iptables';
  forceSandbox: boolean;
  dryRun: boolean;
  json: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  command: string[];
}

/** Raw values as commander hands them over (flags only, no env). */
export interface RawFlags {
  config?: string;
  operatorPolicy?: string;
  audit?: boolean;
  auditReport?: string;
  selftest?: boolean;
  selftestAddress?: string;
  report?: string;
  allow?: string[];
  deny?: string[];
  engine?: string;
  minimumLevel?: string;
  firewall?: string;
  forceSandbox?: boolean;
  dryRun?: boolean;
  json?: boolean;
  logLevel?: string;
  logFormat?: string;
}

/** The environment variable behind each flag. */
export const ENV_NAMES = {
  config: 'FLOW_SANDBOX_CONFIG',
  operatorPolicy: 'FLOW_SANDBOX_OPERATOR_POLICY',
  audit: 'FLOW_SANDBOX_AUDIT',
  auditReport: 'FLOW_SANDBOX_AUDIT_REPORT',
  selftest: 'FLOW_SANDBOX_SELFTEST',
  selftestAddress: 'FLOW_SANDBOX_SELFTEST_ADDRESS',
  report: 'FLOW_SANDBOX_REPORT',
  allow: 'FLOW_SANDBOX_ALLOW',
  deny: 'FLOW_SANDBOX_DENY',
  engine: 'FLOW_SANDBOX_ENGINE',
  minimumLevel: 'FLOW_SANDBOX_MINIMUM_LEVEL',
  firewall: 'FLOW_SANDBOX_FIREWALL',
  forceSandbox: 'FLOW_SANDBOX_FORCE_SANDBOX',
  dryRun: 'FLOW_SANDBOX_DRY_RUN',
  json: 'FLOW_SANDBOX_JSON',
  logLevel: 'FLOW_SANDBOX_LOG_LEVEL',
  logFormat: 'FLOW_SANDBOX_LOG_FORMAT',
} as const;

function choice<T extends string>(
  flag: string,
  envName: string,
  flagValue: string | undefined,
  envValue: string | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  const [field, value] =
    flagValue !== undefined ? [flag, flagValue] : [envName, envValue];
  if (value === undefined || value === '') return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw invalidInput('USAGE', field, value, `one of ${choices.join(', ')}`);
}

function bool(
  flag: boolean | undefined,
  envName: string,
  envValue: string | undefined,
): boolean {
  if (flag !== undefined) return flag;
  if (envValue === undefined || envValue === '') return false;
  if (/^(1|true|yes)$/i.test(envValue)) return true;
  if (/^(0|false|no)$/i.test(envValue)) return false;
  throw invalidInput(
    'USAGE',
    envName,
    envValue,
    'true or false (also 1/0, yes/no)',
  );
}

function list(envValue: string | undefined): string[] {
  if (!envValue) return [];
  return envValue
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Entries from repeated flags, else from the comma-separated variable. */
function entries(
  flag: string,
  values: string[] | undefined,
  envName: string,
  env: Record<string, string | undefined>,
): EntryList {
  if (values?.length)
    return { entries: values, source: { kind: 'flag', origin: flag } };
  return {
    entries: list(env[envName]),
    source: { kind: 'env', origin: envName },
  };
}

/** An IP literal, for the self-test's outside address. */
function address(
  flag: string,
  envName: string,
  flagValue: string | undefined,
  envValue: string | undefined,
): string | undefined {
  const [field, value] =
    flagValue !== undefined ? [flag, flagValue] : [envName, envValue];
  if (value === undefined || value === '') return undefined;
  const accepted =
    'an IPv4 or IPv6 address of a host outside the machine, such as 192.0.2.1';
  if (!isIP(value)) throw invalidInput('USAGE', field, value, accepted);
  // A connection to these fails in every sandbox and outside one alike:
  // the self-test would pass without proving anything.
  const parsed = ipaddr.process(value);
  const range = parsed.range();
  if (NOT_OUTSIDE.includes(range))
    throw invalidInput(
      'USAGE',
      field,
      value,
      accepted,
      `a ${range} address is refused or unreachable with or without a sandbox`,
    );
  return value;
}

const NOT_OUTSIDE = ['loopback', 'unspecified', 'multicast', 'broadcast'];

/** Logging options alone, resolved early so errors can be logged in the right format. */
export function logOptions(
  flags: RawFlags,
  env: Record<string, string | undefined>,
): { logLevel: LogLevel; logFormat: LogFormat } {
  return {
    logLevel: choice(
      '--log-level',
      ENV_NAMES.logLevel,
      flags.logLevel,
      env[ENV_NAMES.logLevel],
      LOG_LEVELS,
      'info',
    ),
    logFormat: choice(
      '--log-format',
      ENV_NAMES.logFormat,
      flags.logFormat,
      env[ENV_NAMES.logFormat],
      LOG_FORMATS,
      'text',
    ),
  };
}

/** Merges flags over environment variables and validates each value. */
export function resolveRunOptions(
  flags: RawFlags,
  env: Record<string, string | undefined>,
  command: string[],
  engines: readonly EngineName[],
): RunOptions {
  if (command.length === 0) {
    throw invalidInput(
      'USAGE',
      'COMMAND',
      '',
      'a command after `--`, as in `flow-sandbox run -- make test`',
    );
  }
  const levels = LEVELS.filter((l) => engines.includes(l));
  return {
    config: flags.config ?? (env[ENV_NAMES.config] || undefined),
    operatorPolicy:
      flags.operatorPolicy ?? (env[ENV_NAMES.operatorPolicy] || undefined),
    audit: bool(flags.audit, ENV_NAMES.audit, env[ENV_NAMES.audit]),
    auditReport: flags.auditReport ?? (env[ENV_NAMES.auditReport] || undefined),
    selftest: bool(flags.selftest, ENV_NAMES.selftest, env[ENV_NAMES.selftest]),
    selftestAddress: address(
      '--selftest-address',
      ENV_NAMES.selftestAddress,
      flags.selftestAddress,
      env[ENV_NAMES.selftestAddress],
    ),
    report: flags.report ?? (env[ENV_NAMES.report] || undefined),
    allow: entries('--allow', flags.allow, ENV_NAMES.allow, env),
    deny: entries('--deny', flags.deny, ENV_NAMES.deny, env),
    engine: choice(
      '--engine',
      ENV_NAMES.engine,
      flags.engine,
      env[ENV_NAMES.engine],
      ['auto', ...engines] as const,
      'auto',
    ),
    minimumLevel: choice(
      '--minimum-level',
      ENV_NAMES.minimumLevel,
      flags.minimumLevel,
      env[ENV_NAMES.minimumLevel],
      levels,
      'none',
    ),
    firewall: choice(
      '--firewall',
      ENV_NAMES.firewall,
      flags.firewall,
      env[ENV_NAMES.firewall],
      ['auto', 'nft', 'iptables'] as const,
      'auto',
    ),
    forceSandbox: bool(
      flags.forceSandbox,
      ENV_NAMES.forceSandbox,
      env[ENV_NAMES.forceSandbox],
    ),
    dryRun: bool(flags.dryRun, ENV_NAMES.dryRun, env[ENV_NAMES.dryRun]),
    json: bool(flags.json, ENV_NAMES.json, env[ENV_NAMES.json]),
    ...logOptions(flags, env),
    command,
  };
}
