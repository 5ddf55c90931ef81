import test from 'ava';
import { createKernelEngine } from '../../../src/engines/kernel/engine.js';
import {
  buildKernelPlan,
  chooseBackend,
  type KernelPlan,
} from '../../../src/engines/kernel/plan.js';
import { DEFAULT_KERNEL_OPTIONS } from '../../../src/engines/kernel/options.js';
import type { PlanInput, ProbeResult } from '../../../src/engines/types.js';
import { defaultPolicy } from '../../../src/policy/defaults.js';
import { parseNetworkEntry } from '../../../src/policy/entries.js';
import { applyLayer, emptyLayer } from '../../../src/policy/layer.js';

const base = { home: '/home/job', cwd: '/builds/p' };
const source = { kind: 'flag' as const, origin: '--allow' };

function probe(facts: Record<string, string>): ProbeResult {
  return { engine: 'kernel', usable: true, checks: [], facts };
}

const allTools = probe({
  ip: '/usr/sbin/ip',
  nsenter: '/usr/bin/nsenter',
  unshare: '/usr/bin/unshare',
  setpriv: '/usr/bin/setpriv',
  mount: '/usr/bin/mount',
  sh: '/bin/sh',
  nft: '/usr/sbin/nft',
  'iptables-restore': '/usr/sbin/iptables-restore',
  'ip6tables-restore': '/usr/sbin/ip6tables-restore',
});

function input(allow: string[], overrides: Partial<PlanInput> = {}): PlanInput {
  const layer = emptyLayer();
  layer.allow = allow.map((e) => parseNetworkEntry(e, 'x', source, 'allow'));
  return {
    runId: 'a1b2c3d4',
    policy: applyLayer(
      defaultPolicy({ CI_SERVER_HOST: 'gitlab.test' }, base),
      layer,
    ),
    command: {
      argv: ['make', 'test'],
      cwd: base.cwd,
      env: { HOME: base.home, PATH: '/usr/bin' },
    },
    stateDir: '/run/flow-sandbox/a1b2c3d4',
    probe: allTools,
    ...overrides,
  };
}

test('the dry-run plan is plain data, the same for the same input', (t) => {
  const engine = createKernelEngine();
  const first = engine.plan(input(['198.18.0.0/24', 'registry.test:443']));
  const second = engine.plan(input(['198.18.0.0/24', 'registry.test:443']));
  t.deepEqual(JSON.parse(JSON.stringify(first)), first);
  t.deepEqual(first, second);
  const details = first.details as Record<string, string>;
  t.regex(
    details.objects!,
    /network namespace fsbxa1b2c3d4, veth fsbxa1b2c3d4h/,
  );
  t.regex(details.addresses!, /an example: a run claims a free slot/);
  t.regex(details.network!, /^\$ ip -batch -\nnetns add fsbxa1b2c3d4\n/);
  t.regex(
    details.firewall!,
    /backend: nft\n\$ nft --echo -f -\ntable inet fsbxa1b2c3d4 \{/,
  );
  t.true(details.firewall!.includes('198.18.0.0/24'));
  t.regex(details.mounts!, /hide +\/home\/job\/\.ssh/);
  t.regex(
    details.launch!,
    /^\/usr\/bin\/setpriv --pdeathsig KILL .* "\$INIT_SCRIPT" .* make test$/,
  );
  t.regex(details.teardown!, /nft delete table inet fsbxa1b2c3d4/);
});

test('the structured plan carries the claimed slot and the probed tools', (t) => {
  const plan = buildKernelPlan(input([]), DEFAULT_KERNEL_OPTIONS, 3, true);
  t.false(plan.addresses.example);
  t.is(plan.state.poolDir, '/run/flow-sandbox/kernel-pool');
  t.deepEqual(plan.dns.listen, ['10.217.0.13', 'fd5b:f5b0:8f2a:3::1']);
  t.is(plan.command.argv[0], '/usr/bin/setpriv');
  t.deepEqual(plan.command.argv.slice(-2), ['make', 'test']);
  t.true(
    plan.mounts.steps.some(
      (s) => s.kind === 'hide' && s.path === '/run/flow-sandbox',
    ),
  );
});

test('warnings name what the kernel engine cannot express exactly', (t) => {
  const plan = createKernelEngine().plan(input(['registry.test:443']));
  t.true(
    plan.warnings.some(
      (w) => w.includes('registry.test:443') && w.includes('per address'),
    ),
  );
  t.true(
    plan.warnings.some((w) =>
      w.includes('Unix sockets other than /var/run/docker.sock'),
    ),
  );
  const iptables = createKernelEngine().plan(
    input([], {
      firewall: 'iptables',
      probe: probe({ 'iptables-restore': '/usr/sbin/iptables-restore' }),
    }),
  );
  t.true(
    iptables.warnings.some((w) =>
      w.includes('IPv6 is switched off inside the sandbox'),
    ),
  );
});

test('address rules inside the stand-in blocks are named in a warning', (t) => {
  const warning = (allow: string[]) =>
    createKernelEngine()
      .plan(input(allow))
      .warnings.find((w) => w.includes('stand-in addresses'));
  t.is(warning(['198.18.0.0/24', '10.217.0.0/16', 'fd00::/16']), undefined);
  for (const inside of ['10.218.3.4', '10.218.0.0/16', 'fd5b:f5b0:8f2b::9']) {
    t.regex(
      warning([inside, '198.18.0.1']) ?? '',
      new RegExp(`^${inside.replace(/[.]/g, '\\.')}`),
      inside,
    );
  }
  const plan = createKernelEngine().plan(input([]));
  t.regex(
    (plan.details as Record<string, string>).dns!,
    /answered with stand-in addresses \(from 10\.218\.0\.0\/16 and fd5b:f5b0:8f2b::\/64\)/,
  );
});

test('the backend: the flag, else nft where found, else iptables', (t) => {
  t.is(chooseBackend({ firewall: 'iptables', probe: allTools }), 'iptables');
  t.is(chooseBackend({ firewall: 'auto', probe: allTools }), 'nft');
  t.is(
    chooseBackend({
      probe: probe({ 'iptables-restore': '/sbin/iptables-restore' }),
    }),
    'iptables',
  );
  t.is(chooseBackend({ probe: probe({}) }), 'nft');
});

test('iptables without ip6tables plans no IPv6 at all', (t) => {
  const plan = buildKernelPlan(
    input([], {
      firewall: 'iptables',
      probe: probe({ 'iptables-restore': '/usr/sbin/iptables-restore' }),
    }),
    DEFAULT_KERNEL_OPTIONS,
    7,
    true,
  );
  t.false(plan.netns.ipv6);
  t.deepEqual(plan.dns.listen, ['10.217.0.29']);
  t.is(plan.firewall.setup.length, 1);
  t.false(plan.netns.sandboxBatch.includes('fd5b'));
});

test('the pool directory stays visible only when it lies outside the state root', (t) => {
  const plan = buildKernelPlan(
    input([]),
    { ...DEFAULT_KERNEL_OPTIONS, poolDir: '/var/lib/fsbx-pool' },
    0,
    true,
  );
  const hidden = plan.mounts.steps
    .filter((s) => s.kind === 'hide' && s.why.includes('state'))
    .map((s) => (s as { path: string }).path);
  t.deepEqual(hidden, [
    '/run/flow-sandbox',
    '/run/flow-sandbox-srt',
    '/var/lib/fsbx-pool',
  ]);
});

test('a runner without IPv6 gives the sandbox none, whatever the backend', (t) => {
  const noV6 = probe({ ...allTools.facts, ipv6: 'off' });
  const plan = buildKernelPlan(
    input([], { probe: noV6 }),
    DEFAULT_KERNEL_OPTIONS,
    1,
    true,
  );
  t.false(plan.netns.ipv6);
  t.false(plan.netns.hostBatch.includes('fd5b'));
  t.true(plan.netns.hostBatch.includes('addrgenmode none'));
  t.deepEqual(plan.dns.listen, ['10.217.0.5']);
  t.false(
    createKernelEngine()
      .plan(input([], { probe: noV6 }))
      .warnings.some((w) => w.includes('ip6tables')),
  );
});

test('read-only /proc/sys: the plan says forwarding goes through a private procfs', (t) => {
  const ro = probe({ ...allTools.facts, sysctl: 'private-proc' });
  const plan = buildKernelPlan(
    input([], { probe: ro }),
    DEFAULT_KERNEL_OPTIONS,
    3,
    true,
  );
  t.is(plan.sysctl.method, 'private-proc');
  t.deepEqual(plan.sysctl.example.slice(0, 5), [
    '/usr/bin/unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
  ]);
  const details = createKernelEngine().plan(input([], { probe: ro }))
    .details as Record<string, string>;
  t.regex(details.forwarding!, /read-only here .*\sprivate mount namespace/s);
  t.regex(details.forwarding!, /\$ \/usr\/bin\/unshare --mount/);

  const direct = createKernelEngine().plan(input([])).details as Record<
    string,
    string
  >;
  t.regex(direct.forwarding!, /set to 1 in \/proc\/sys where off/);
  t.notRegex(direct.forwarding!, /unshare/);
});
