import test from 'ava';
import type { Context } from '../../src/context.js';
import { selectEngine } from '../../src/engines/select.js';
import type { Engine, EngineName } from '../../src/engines/types.js';

/** An engine whose probe gives a fixed answer; it plans and applies nothing. */
function fake(name: EngineName, missing?: string): Engine {
  return {
    name,
    setupSteps: [],
    probe: async () => ({
      engine: name,
      usable: !missing,
      checks: missing ? [{ name: 'binary', ok: false, detail: missing }] : [],
    }),
    plan: () => {
      throw new Error('not planned in this test');
    },
    apply: () => {
      throw new Error('not applied in this test');
    },
  };
}

const ctx = {} as Context;

test('auto without SRT picks the kernel engine and says why SRT was passed over', async (t) => {
  const choice = await selectEngine(ctx, {
    requested: 'auto',
    minimumLevel: 'none',
    applying: true,
    engines: [
      fake('srt', 'bwrap not found on PATH'),
      fake('kernel'),
      fake('none'),
    ],
  });
  t.is(choice.chosen, 'kernel');
  t.is(
    choice.reason,
    'first usable engine in order srt, kernel, none (srt: bwrap not found on PATH)',
  );
  t.is(choice.fallbackWarning, undefined);
});

test('auto with SRT picks it, and names no engine passed over', async (t) => {
  const choice = await selectEngine(ctx, {
    requested: 'auto',
    minimumLevel: 'none',
    applying: true,
    engines: [fake('srt'), fake('kernel'), fake('none')],
  });
  t.is(choice.chosen, 'srt');
  t.is(choice.reason, 'first usable engine in order srt, kernel, none');
});

test('auto without SRT and with minimum level srt refuses to run', async (t) => {
  await t.throwsAsync(
    selectEngine(ctx, {
      requested: 'auto',
      minimumLevel: 'srt',
      applying: true,
      engines: [
        fake('srt', 'bwrap not found on PATH'),
        fake('kernel'),
        fake('none'),
      ],
    }),
    {
      message:
        /level is srt, but the best engine .* is kernel \(srt: bwrap not found/,
    },
  );
});
