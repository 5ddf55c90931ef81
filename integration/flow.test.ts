// The comparison of two engines' verdict tables (pure; no root needed).
import test from 'ava';
import type { VerdictCase } from './cases.js';
import { compareCases, tableDifferences, type Observation } from './flow.js';

const cases: VerdictCase[] = [
  { id: 'reach', description: 'd', expected: 'allowed', script: 'true' },
  {
    id: 'gap',
    description: 'd',
    expected: 'refused',
    script: 'true',
    gaps: { srt: { observed: 'allowed', why: 'documented' } },
  },
];

function seen(verdicts: Record<string, 'allowed' | 'refused'>) {
  return new Map<string, Observation>(
    Object.entries(verdicts).map(([id, observed]) => [
      id,
      { id, observed, status: 0, detail: '' },
    ]),
  );
}

const table = (
  engine: 'srt' | 'kernel',
  v: Record<string, 'allowed' | 'refused'>,
) => ({
  engine,
  rows: compareCases(cases, seen(v), engine),
});

test('tables that differ only by a documented gap are the same', (t) => {
  t.deepEqual(
    tableDifferences(
      table('srt', { reach: 'allowed', gap: 'allowed' }),
      table('kernel', { reach: 'allowed', gap: 'refused' }),
    ),
    [],
  );
});

test('a case not as expected under one engine is a difference', (t) => {
  t.deepEqual(
    tableDifferences(
      table('srt', { reach: 'allowed', gap: 'allowed' }),
      table('kernel', { reach: 'refused', gap: 'refused' }),
    ),
    ['reach: srt allowed (OK), kernel refused (FAIL)'],
  );
});

test('a missing observation is a difference', (t) => {
  t.deepEqual(
    tableDifferences(
      table('srt', { reach: 'allowed', gap: 'allowed' }),
      table('kernel', { reach: 'allowed' }),
    ),
    ['gap: srt allowed (OK (known gap: allowed)), kernel missing (FAIL)'],
  );
});
