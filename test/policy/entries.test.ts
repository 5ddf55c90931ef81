import test from 'ava';
import { parseNetworkEntry } from '../../src/policy/entries.js';
import { formatRule } from '../../src/policy/types.js';

const source = { kind: 'flag' as const, origin: '--allow' };
const parse = (raw: string) => parseNetworkEntry(raw, '--allow', source);

const canonical: Array<[string, string]> = [
  ['gitlab.example.com', 'gitlab.example.com'],
  ['GitLab.Example.COM.', 'gitlab.example.com'],
  ['*.gitlab.example.com', '*.gitlab.example.com'],
  ['*.Example.com:443', '*.example.com:443'],
  ['bücher.example', 'xn--bcher-kva.example'],
  ['localhost', 'localhost'],
  ['198.18.0.10', '198.18.0.10'],
  ['198.18.0.10:8080', '198.18.0.10:8080'],
  ['10.1.2.3/8', '10.0.0.0/8'],
  ['::ffff:198.18.0.1', '198.18.0.1'],
  ['2130706433', '127.0.0.1'],
  ['0x7f.1', '127.0.0.1'],
  ['[2001:db8::1]:443', '[2001:db8::1]:443'],
  ['2001:DB8::1', '2001:db8::1'],
  ['2001:db8::/32', '2001:db8::/32'],
];

for (const [raw, expected] of canonical) {
  test(`canonical form of ${raw}`, (t) => {
    t.is(formatRule(parse(raw)), expected);
  });
}

const refused: Array<[string, RegExp]> = [
  ['*', /wildcard/],
  ['*.com', /top-level/],
  ['*.localhost', /top-level/],
  ['a..b', /empty label/],
  ['.example.com', /empty label/],
  ['*.*.x', /wildcard/],
  ['api.*.example.com', /wildcard/],
  ['ex*ample.com', /wildcard/],
  ['example.com:0', /port/],
  ['example.com:65536', /port/],
  ['example.com:http', /port/],
  ['exa mple.com', /spaces/],
  ['example.com\n', /control/],
  ['-bad.example.com', /label/],
  ['10.0.0.0/33', /IP address or CIDR/],
  ['1.2.3.4/8/1', /IP address or CIDR/],
  ['a'.repeat(64) + '.com', /label/],
  ['', /length/],
];

for (const [raw, why] of refused) {
  test(`refuses ${JSON.stringify(raw)} naming field, value and form`, (t) => {
    const error = t.throws(() => parse(raw));
    t.regex(error.message, /^--allow: /);
    t.true(error.message.includes(JSON.stringify(raw)));
    t.regex(error.message, why);
    t.regex(error.message, /expected a host name/);
  });
}

test('non-string entries are refused', (t) => {
  t.throws(() => parseNetworkEntry(42, 'network.allow[0]', source), {
    message: /network.allow\[0\]: 42 is not accepted/,
  });
});

test('each rule remembers its source', (t) => {
  t.deepEqual(parse('gitlab.test').source, source);
});
