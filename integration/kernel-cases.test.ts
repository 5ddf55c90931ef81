// The kernel engine against the shared verdict table, in the shared test
// network, for both firewall backends. Root only: skipped with the reason
// elsewhere.
import test from 'ava';
import { CASES } from './cases.js';
import {
  compareCases,
  failures,
  formatTable,
  leakedNames,
  runFlow,
} from './flow.js';
import { useTestnet } from './fixture.js';
import { kernelSkipReason } from './kernel/skip.js';
import {
  jobEnv,
  listing,
  sandboxWrap,
  stateDirOf,
  tmpLeftovers,
} from './sandbox-run.js';
import { rootSkipReason } from './skip.js';

/**
 * iptables-restore creates the kernel's base tables on first use, and the
 * iptables backend leaves them (empty, every policy ACCEPT): deleting a
 * table could race with another run's rules going into it.
 */
function emptyBaseTables(difference: string): boolean {
  const match = /^runner (ip6?tables|nft): "" -> "(.*)"$/.exec(difference);
  if (!match) return false;
  // The same tables, as iptables-save and as nft list them.
  const empty = [
    /^\*(filter|nat)$/,
    /^:[A-Z]+ ACCEPT \[\*\]$/,
    /^COMMIT$/,
    /^table ip6? (filter|nat) \{$/,
    /^chain [A-Z]+ \{$/,
    /^type (filter|nat) hook \w+ priority \w+; policy accept;$/,
    /^\}?$/,
  ];
  return match[2]!
    .split('\\n')
    .map((line) => line.replaceAll('\\t', '').trim())
    .every((line) => empty.some((re) => re.test(line)));
}

const skip =
  rootSkipReason(['node']) ??
  kernelSkipReason('nft') ??
  kernelSkipReason('iptables');

if (skip) {
  // Reported as skipped, with the reason, never as passed.
  test.skip(`kernel engine verdict cases (${skip})`, () => {});
} else {
  const { net, start } = useTestnet(test);

  for (const firewall of ['nft', 'iptables'] as const) {
    test.serial(
      `kernel (${firewall}) gives every case its verdict and looks up no refused name`,
      async (t) => {
        const asked = (await net().dnsQueries()).length;
        const { result, observations } = await runFlow(net(), {
          cases: CASES,
          wrap: sandboxWrap([
            '--force-sandbox',
            '--engine',
            'kernel',
            // Never a silent fallback: a kernel engine that cannot start
            // fails the run (125) instead of running the flow unsandboxed.
            '--minimum-level',
            'kernel',
            '--firewall',
            firewall,
          ]),
          env: jobEnv(net()),
        });
        const rows = compareCases(CASES, observations, 'kernel');
        t.log(`\n${formatTable(rows)}`);
        for (const r of rows.filter((row) => row.gap)) {
          t.log(
            `known kernel gap in ${r.case.id}: ${r.case.gaps?.kernel?.why}`,
          );
        }
        t.is(result.exitCode, 0, result.stderr);
        t.deepEqual(failures(rows), []);
        const during = (await net().dnsQueries()).slice(asked);
        t.deepEqual(
          leakedNames(CASES, during),
          [],
          'refused names reached the DNS server',
        );
      },
    );
  }

  test.serial(
    'no leftovers: the runner namespace is as it was before the tests',
    async (t) => {
      const now = await net().snapshot();
      const differences = await net().differences(start(), now);
      t.deepEqual(
        differences.filter((d) => !emptyBaseTables(d)),
        [],
      );
      t.deepEqual(await tmpLeftovers(net()), [], 'nothing left in /tmp');
      t.deepEqual(await listing(stateDirOf(net())), [], 'no run state left');
    },
  );
}
