import test from 'ava';
import fc from 'fast-check';
import { dump, load } from 'js-yaml';
import { parseJsonObject } from '../../src/policy/json-fast.js';
import { parsePolicyFile } from '../../src/policy/load.js';

// Fixed seed and bounded runs: the same cases on every machine, in seconds.
const RUNS = { seed: 20261203, numRuns: 600 };

/** The YAML parser with the options flow-sandbox uses. */
const yaml = (text: string): unknown => load(text, { maxAliases: 100 });

const text = fc.string({ unit: 'binary-ascii', maxLength: 12 });
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  ),
}));
const document = fc.dictionary(text, value, { maxKeys: 5 });

test('a JSON object reads as the YAML parser reads it, in every layout', (t) => {
  let fast = 0;
  fc.assert(
    fc.property(
      document,
      fc.constantFrom(undefined, 1, 2, 4),
      (doc, indent) => {
        const json = JSON.stringify(doc, null, indent);
        const read = parseJsonObject(json);
        if (read === undefined) return;
        fast += 1;
        t.deepEqual(read, yaml(json), json);
      },
    ),
    RUNS,
  );
  // Most documents take the fast path, or the comparison proves little.
  t.true(fast > RUNS.numRuns / 2, `${fast} of ${RUNS.numRuns}`);
});

const leftToYaml: Array<[string, string]> = [
  ['a duplicate key', '{"a": 1, "b": {"c": 1, "c": 2}}'],
  ['a duplicate key written with an escape', '{"a": 1, "\\u0061": 2}'],
  ['a tab', '{\t"a": 1}'],
  ['a carriage return', '{"a": 1}\r\n'],
  ['non-ASCII text', '{"a": "bücher.example"}'],
  ['a top-level list', '["a"]'],
  ['a number longer than a double holds', '{"a": 12345678901234567}'],
  ['deep nesting', `{"a": ${'['.repeat(64)}${']'.repeat(64)}}`],
  ['YAML that is not JSON', 'network:\n  allow: [a.test]\n'],
  ['broken JSON', '{"a": 1,}'],
  ['an empty text', ''],
];

for (const [what, input] of leftToYaml) {
  test(`${what} is left to the YAML parser`, (t) => {
    t.is(parseJsonObject(input), undefined);
  });
}

test('a duplicate key in a JSON policy fails as in YAML, naming the file', async (t) => {
  const file = '{"network": {"allow": ["a.test"], "allow": ["b.test"]}}';
  await t.throwsAsync(parsePolicyFile(file, 'policy.json'), {
    message: /^policy\.json: not valid YAML: duplicated mapping key/,
  });
});

test('a JSON policy file gives the same policy as the same file in YAML', async (t) => {
  const policy = {
    network: {
      allow: ['a.test', '198.18.0.0/24:443'],
      allow_local_binding: false,
    },
    filesystem: { deny_read: ['~/.ssh'] },
  };
  t.deepEqual(
    await parsePolicyFile(JSON.stringify(policy, null, 2), 'policy.json'),
    await parsePolicyFile(dump(policy), 'policy.yml'),
  );
  await t.throwsAsync(
    parsePolicyFile('{"network": {"allow": [42]}}', 'p.json'),
    {
      message:
        /p\.json: network\.allow\.0: 42 is not accepted \(Expected string, received number\)/,
    },
  );
});
