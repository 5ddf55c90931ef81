import test from 'ava';
import { parsePath } from '../../src/policy/paths.js';

const base = { home: '/home/job', cwd: '/builds/group/project' };
const source = { kind: 'config' as const, origin: 'test' };
const parse = (raw: unknown) =>
  parsePath(raw, 'filesystem.allow_write[0]', base, source).path;

test('home, working directory and absolute paths resolve', (t) => {
  t.is(parse('~/.ssh'), '/home/job/.ssh');
  t.is(parse('~'), '/home/job');
  t.is(parse('.'), '/builds/group/project');
  t.is(parse('./out/'), '/builds/group/project/out');
  t.is(parse('/tmp//x/'), '/tmp/x');
});

for (const raw of [
  '~/../..',
  '../x',
  '/tmp/../etc',
  'relative/path',
  '',
  'a\u0000b',
  5,
]) {
  test(`refuses ${JSON.stringify(raw)}`, (t) => {
    const error = t.throws(() => parse(raw));
    t.regex(error.message, /^filesystem.allow_write\[0\]: /);
    t.regex(error.message, /expected an absolute path/);
  });
}
