import winston from 'winston';
import Transport from 'winston-transport';

/** Levels the CLI accepts for --log-level and FLOW_SANDBOX_LOG_LEVEL. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The logger every module receives through the context. */
export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  /**
   * A message followed by lines shown as they are (a table, a snippet to
   * paste); each line is escaped like any logged text.
   */
  block(level: LogLevel, message: string, lines: readonly string[]): void;
  /** Opens a collapsible job-log section (text format only). */
  sectionStart(name: string, title: string): void;
  sectionEnd(name: string): void;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; stderr unless a test captures them. */
  write?: (line: string) => void;
}

// winston's Console transport writes through console._stderr, which a test
// cannot capture; this one hands each formatted line to a function.
class LineTransport extends Transport {
  constructor(private readonly writeLine: (line: string) => void) {
    super();
  }

  override log(info: Record<symbol, unknown>, next: () => void): void {
    this.writeLine(`${String(info[Symbol.for('message')])}\n`);
    next();
  }
}

// Characters a terminal or the job log acts on rather than shows: controls
// (C0, C1, DEL: line breaks, carriage return, escape sequences), format
// characters (bidi marks and overrides, zero-width ones, the byte-order
// mark) and the line and paragraph separators.
const ACTIVE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text as one inert line: what the command chose (a refused name, a path)
 * reaches the log in every message, and must not break a line, move the
 * cursor, forge a line of flow-sandbox's or fold the log. The escapes are
 * JSON's, so a JSON line stays valid.
 */
export function inert(text: string): string {
  return text.replace(
    ACTIVE,
    (c) =>
      NAMED[c] ??
      // Per UTF-16 unit, as JSON escapes a character past U+FFFF.
      c.replace(
        /[^]/g,
        (u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`,
      ),
  );
}

/**
 * A field's text as it is when plain, else quoted: a value with spaces,
 * brackets or `=` in it (a refused name) cannot pass for other fields.
 */
export function quoted(value: string): string {
  return /^[^\s()"=]*$/u.test(value) && value !== ''
    ? value
    : JSON.stringify(value);
}

function textFormat(): winston.Logform.Format {
  return winston.format.printf((info) => {
    const { level, message, timestamp: _t, block, ...fields } = info;
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(
        ([k, v]) =>
          `${k}=${typeof v === 'string' ? quoted(v) : JSON.stringify(v)}`,
      )
      .join(' ');
    const tag = level === 'info' ? '' : `${level.toUpperCase()}: `;
    const lines = Array.isArray(block)
      ? block.map((l) => `\n${inert(String(l))}`)
      : [];
    return `[flow-sandbox] ${inert(`${tag}${String(message)}${extra ? ` (${extra})` : ''}`)}${lines.join('')}`;
  });
}

/** JSON lines: JSON.stringify leaves C1 controls and separators raw. */
const inertJson = winston.format((info) => {
  const key = Symbol.for('message');
  const line = (info as Record<symbol, unknown>)[key];
  if (typeof line === 'string')
    (info as Record<symbol, unknown>)[key] = inert(line);
  return info;
});

/** Builds the structured logger: human lines for the job log, or JSON lines. */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line) => process.stderr.write(line));
  const format =
    options.format === 'json'
      ? winston.format.combine(
          winston.format.timestamp(),
          winston.format.json(),
          inertJson(),
        )
      : textFormat();
  const inner = winston.createLogger({
    level: options.level,
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format,
    transports: [new LineTransport(write)],
  });
  const at =
    (level: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      inner.log({ level, message, ...fields });
  const open = new Set<string>();
  const section = (kind: 'start' | 'end', name: string, title = '') => {
    // An end without a start (an error path closing twice) prints nothing.
    if (kind === 'end' && !open.delete(name)) return;
    if (kind === 'start') open.add(name);
    if (options.format !== 'text' || !['info', 'debug'].includes(options.level))
      return;
    const stamp = Math.floor(Date.now() / 1000);
    const options_ = kind === 'start' ? '[collapsed=true]' : '';
    write(
      `\x1b[0Ksection_${kind}:${stamp}:fsbx_${name}${options_}\r\x1b[0K${title}\n`,
    );
  };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    block: (level, message, lines) =>
      inner.log({ level, message, block: [...lines] }),
    sectionStart: (name, title) => section('start', name, title),
    sectionEnd: (name) => section('end', name),
  };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & {
  lines: string[];
} {
  const lines: string[] = [];
  const logger = createLogger({
    level,
    format: 'json',
    write: (line) => lines.push(line),
  });
  return Object.assign(logger, { lines });
}
