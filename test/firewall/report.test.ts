import test from 'ava';
import type { RunOptions } from '../../src/exec/runner.js';
import { planFirewall } from '../../src/firewall/plan.js';
import { readRejections } from '../../src/firewall/report.js';
import { sampleSpec } from './helpers.js';

const table = 'fsbxa1b2c3d4';

/** nft -j output for a counting set holding one destination. */
function setJson(set: string, address: string, packets: number): string {
  return JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      {
        set: {
          family: 'inet',
          name: set,
          table,
          elem: [
            {
              elem: {
                val: { concat: [address, 'tcp', 443] },
                counter: { packets, bytes: 60 * packets },
              },
            },
          ],
        },
      },
    ],
  });
}

/** A runner that answers nft listings from a table and records them. */
function nft(answers: Record<string, string>) {
  const asked: string[] = [];
  const runner = {
    async run(argv: readonly string[], _options: RunOptions = {}) {
      const what = argv.slice(3).join(' ');
      asked.push(what);
      const stdout = answers[what];
      return stdout === undefined
        ? { exitCode: 1, stdout: '', stderr: 'Error: No such file' }
        : { exitCode: 0, stdout, stderr: '' };
    },
  };
  return { runner, asked };
}

const empty = (set: string) =>
  JSON.stringify({ nftables: [{ set: { name: set, table } }] });

function manyAddresses(n: number) {
  return sampleSpec({
    allow: Array.from({ length: n }, (_, i) => ({
      family: 4 as const,
      cidr: `198.19.${i >> 8}.${i & 255}`,
    })),
  });
}

test('a small table: the counter first, and no set read when it is zero', async (t) => {
  const plan = planFirewall(sampleSpec(), 'nft');
  const { runner, asked } = nft({
    [`counter inet ${table} rejected`]: JSON.stringify({
      nftables: [{ counter: { name: 'rejected', packets: 0 } }],
    }),
  });
  t.deepEqual(await readRejections(runner, plan), {
    packets: 0,
    destinations: [],
    perDestination: true,
  });
  t.deepEqual(asked, [`counter inet ${table} rejected`]);
});

test('a large table: the counting sets are read, never the counter', async (t) => {
  const plan = planFirewall(manyAddresses(300), 'nft');
  t.is(plan.staticElements, 301);
  const { runner, asked } = nft({
    [`set inet ${table} rej4`]: setJson('rej4', '198.18.0.66', 3),
    [`set inet ${table} rej6`]: setJson('rej6', '2001:db8::66', 5),
    [`set inet ${table} rej4x`]: empty('rej4x'),
    [`set inet ${table} rej6x`]: empty('rej6x'),
  });
  const report = await readRejections(runner, plan);
  t.false(asked.some((a) => a.startsWith('counter')));
  t.is(report.packets, 8);
  t.deepEqual(
    report.destinations.map((d) => `${d.address} ${d.packets}`),
    ['2001:db8::66 5', '198.18.0.66 3'],
  );
});
