import test from 'ava';
import { createLogger, quoted } from '../../src/log/logger.js';

function capture(level: 'info' | 'debug', format: 'text' | 'json') {
  const lines: string[] = [];
  const log = createLogger({ level, format, write: (l) => lines.push(l) });
  return { log, lines };
}

test('text lines are tagged and carry fields; debug hidden at info', (t) => {
  const { log, lines } = capture('info', 'text');
  log.debug('hidden');
  log.warn('careful', { engine: 'srt' });
  t.deepEqual(lines, ['[flow-sandbox] WARN: careful (engine=srt)\n']);
});

test('json lines are structured events', (t) => {
  const { log, lines } = capture('debug', 'json');
  log.debug('shown', { runId: 'abc' });
  const event = JSON.parse(lines[0]!);
  t.is(event.level, 'debug');
  t.is(event.message, 'shown');
  t.is(event.runId, 'abc');
});

test('sections are GitLab job-log markers in text, absent in json', (t) => {
  const text = capture('info', 'text');
  text.log.sectionStart('setup', 'Preparing');
  text.log.sectionEnd('setup');
  t.regex(
    text.lines[0]!,
    /^\x1b\[0Ksection_start:\d+:fsbx_setup\[collapsed=true\]\r\x1b\[0KPreparing\n$/,
  );
  t.regex(text.lines[1]!, /^\x1b\[0Ksection_end:\d+:fsbx_setup\r\x1b\[0K\n$/);
  const json = capture('info', 'json');
  json.log.sectionStart('setup', 'x');
  t.deepEqual(json.lines, []);
});

// What a sandboxed command chooses (a refused DNS name, say) reaches the
// log: it must not start a line, move the cursor or fold the job log.
const FORGED =
  'x\r\x1b[K[flow-sandbox] summary: engine kernel, sandbox applied\n  nothing was refused\x1b]0;t\x07\x9b2J\u2028\u202e';

test('text: controls in messages, fields and block lines are escaped, one line per call', (t) => {
  const { log, lines } = capture('info', 'text');
  log.warn(`refused name ${FORGED}`, { name: FORGED });
  log.block('info', 'table', [`  row ${FORGED}`]);
  t.is(lines.length, 2);
  for (const line of lines) {
    t.notRegex(line, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202e]/);
  }
  t.is(lines[0]!.split('\n').length, 2, 'one line, then the end of it');
  t.true(
    lines[0]!.includes(
      'x\\r\\u001b[K[flow-sandbox] summary: engine kernel, sandbox applied\\n  nothing was refused\\u001b]0;t\\u0007\\u009b2J\\u2028\\u202e',
    ),
    lines[0],
  );
  t.is(lines[1]!.split('\n').length, 3, 'the message and its one block line');
  t.true(lines[1]!.split('\n')[1]!.startsWith('  row x\\r\\u001b[K'));
});

test('json: lines stay valid JSON with C1 controls and separators escaped', (t) => {
  const { log, lines } = capture('info', 'json');
  log.info(FORGED, { name: FORGED });
  log.block('info', 'table', [FORGED]);
  for (const line of lines) {
    t.notRegex(line.slice(0, -1), /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202e]/);
    const event = JSON.parse(line);
    t.is(event.message === 'table' ? event.block[0] : event.name, FORGED);
  }
});

test('invisible format characters are escaped too; odd field values are quoted', (t) => {
  const { log, lines } = capture('info', 'text');
  const name = 'a b why=allowed) \u061c\ufeff\u200b\u2060\u{e0001}x';
  log.warn('DNS query refused', { name, why: 'not allowed' });
  t.is(
    lines[0],
    '[flow-sandbox] WARN: DNS query refused (name="a b why=allowed) \\u061c\\ufeff\\u200b\\u2060\\udb40\\udc01x" why="not allowed")\n',
  );
  t.is(quoted('outside.test:80'), 'outside.test:80');
  t.is(quoted(''), '""');
});
