import test from 'ava';
import { createLogger } from '../../src/log/logger.js';

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
