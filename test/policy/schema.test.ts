import test from 'ava';
import fc from 'fast-check';
import { z } from 'zod';
import { stringList } from '../../src/policy/schema.js';

// Fixed seed and bounded runs: the same cases on every machine, in seconds.
const RUNS = { seed: 20261203, numRuns: 1000 };

/** What a user sees of a failed parse: every issue's code, path and message. */
function issues(schema: z.ZodTypeAny, data: unknown) {
  const result = schema.safeParse(data);
  return result.success
    ? 'accepted'
    : result.error.issues.map((i) => ({
        code: i.code,
        path: i.path,
        message: i.message,
      }));
}

const value = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.dictionary(fc.string(), fc.string()),
  fc.array(fc.string()),
);

test('stringList gives the issues of zod’s array of strings, in the same order', (t) => {
  const zodList = z
    .object({
      list: z.array(z.string()).max(3).optional(),
      n: z.number().optional(),
    })
    .strict();
  const ours = z
    .object({ list: stringList(3).optional(), n: z.number().optional() })
    .strict();
  fc.assert(
    fc.property(
      fc.record(
        {
          list: fc.oneof(
            fc.array(fc.string(), { maxLength: 5 }),
            fc.array(value, { maxLength: 5 }),
            value,
          ),
          n: fc.oneof(fc.integer(), fc.string()),
          extra: fc.string(),
        },
        { requiredKeys: [] },
      ),
      (data) => {
        t.deepEqual(issues(ours, data), issues(zodList, data));
      },
    ),
    RUNS,
  );
});

test('a valid list is accepted as it is', (t) => {
  const result = stringList(3).safeParse(['a', 'b']);
  t.true(result.success);
  t.deepEqual(result.data, ['a', 'b']);
});
