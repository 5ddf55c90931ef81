import test from 'ava';
import { defaultPolicy } from '../../../src/policy/defaults.js';
import { parseNetworkEntry } from '../../../src/policy/entries.js';
import { applyLayer, emptyLayer } from '../../../src/policy/layer.js';
import { srtSettings } from '../../../src/engines/srt/settings.js';
import { namesThisHost } from '../../../src/policy/match.js';

const base = { home: '/home/job', cwd: '/builds/p' };
const source = { kind: 'flag' as const, origin: '--allow' };

function policyWith(allow: string[], deny: string[] = []) {
  const layer = emptyLayer();
  layer.allow = allow.map((e) => parseNetworkEntry(e, 'x', source));
  layer.deny = deny.map((e) => parseNetworkEntry(e, 'x', source));
  return applyLayer(
    defaultPolicy({ CI_SERVER_HOST: 'gitlab.test' }, base),
    layer,
  );
}

test('the default policy maps onto SRT settings', (t) => {
  const { settings } = srtSettings(policyWith([]), ['/run/flow-sandbox/abc']);
  t.deepEqual(settings, {
    network: {
      allowedDomains: ['host.docker.internal', 'gitlab.test', '*.gitlab.test'],
      deniedDomains: [],
      deniedResolvedAddresses: [],
      strictAllowlist: true,
      allowUnixSockets: ['/var/run/docker.sock'],
      allowAllUnixSockets: true,
      allowLocalBinding: true,
    },
    filesystem: {
      denyRead: ['/home/job/.ssh', '/run/flow-sandbox/abc'],
      allowWrite: ['/builds/p', '/tmp'],
      denyWrite: ['/run/flow-sandbox/abc'],
      allowGitConfig: false,
    },
  });
});

test('the Unix socket widening, localhost and proxy limits are warned about', (t) => {
  const { warnings } = srtSettings(policyWith([]), []);
  t.true(warnings.some((w) => /cannot allow one Unix socket path/.test(w)));
  t.true(
    warnings.some((w) => /localhost is the sandbox's own loopback/.test(w)),
  );
  t.true(warnings.some((w) => /ignore HTTP\(S\)_PROXY/.test(w)));
});

test('IPv6 literals are bracketed; ports are kept', (t) => {
  const { settings } = srtSettings(
    policyWith([
      '2001:db8::1',
      '[2001:db8::2]:443',
      'api.example.com:8443',
      '198.18.0.7',
    ]),
    [],
  );
  t.deepEqual(settings.network.allowedDomains.slice(3), [
    '[2001:db8::1]',
    '[2001:db8::2]:443',
    'api.example.com:8443',
    '198.18.0.7',
  ]);
});

test('an allowed address block cannot be expressed: refused under SRT, with a warning', (t) => {
  const { settings, warnings } = srtSettings(policyWith(['198.18.0.0/24']), []);
  t.false(settings.network.allowedDomains.some((d) => d.includes('198.18')));
  t.true(
    warnings.some((w) =>
      /cannot allow an address block: allow entry 198\.18\.0\.0\/24/.test(w),
    ),
  );
});

test('a denied block becomes a resolved-address denial and still beats a literal allow', (t) => {
  const { settings } = srtSettings(
    policyWith(
      ['198.18.0.7', '198.19.0.7'],
      ['198.18.0.0/16', 'api.gitlab.test'],
    ),
    [],
  );
  t.deepEqual(settings.network.deniedResolvedAddresses, ['198.18.0.0/16']);
  t.deepEqual(settings.network.deniedDomains, ['api.gitlab.test']);
  t.false(settings.network.allowedDomains.includes('198.18.0.7'));
  t.true(settings.network.allowedDomains.includes('198.19.0.7'));
});

test('SRT accepts every settings object flow-sandbox generates', async (t) => {
  const { SandboxRuntimeConfigSchema } =
    await import('@anthropic-ai/sandbox-runtime');
  const { settings } = srtSettings(
    policyWith(
      [
        '2001:db8::1',
        '[2001:db8::2]:443',
        '*.example.com:443',
        '198.18.0.7:80',
      ],
      ['198.18.0.0/16', '2001:db8::/32'],
    ),
    ['/run/x'],
  );
  const result = SandboxRuntimeConfigSchema.safeParse(settings);
  t.true(
    result.success,
    result.success ? '' : JSON.stringify(result.error.issues),
  );
});

// SRT's proxies run in the runner's namespace: an allowed `localhost` made
// them dial the runner's own loopback services (escape suite, case
// esc-runner-loopback-proxy). The sandbox's own loopback needs no proxy.
test('localhost and loopback literals are never handed to SRT’s proxies', (t) => {
  const { settings, warnings } = srtSettings(
    policyWith([
      'localhost:8080',
      'app.localhost',
      '127.0.0.1',
      '127.1.2.3:22',
      '0.0.0.0',
      '::1',
      '[::]:80',
      'lo.gitlab.test',
    ]),
    [],
  );
  t.deepEqual(settings.network.allowedDomains, [
    'host.docker.internal',
    'gitlab.test',
    '*.gitlab.test',
    'lo.gitlab.test',
  ]);
  t.true(
    warnings.some((w) => /services on the runner's loopback are not/.test(w)),
  );
});

test('namesThisHost tells loopback rules from ordinary ones', (t) => {
  const rule = (e: string) => parseNetworkEntry(e, 'x', source);
  for (const e of ['localhost', 'a.localhost', '127.0.0.53', '::1', '0.0.0.0'])
    t.true(namesThisHost(rule(e)), e);
  for (const e of ['localhost.gitlab.test', '198.18.0.2', '2001:db8::1'])
    t.false(namesThisHost(rule(e)), e);
});

test('an operator that forbids all Unix sockets gets none under SRT, with a warning', (t) => {
  const policy = policyWith([]);
  policy.network.allowAllUnixSockets = {
    value: false,
    source: { kind: 'operator', origin: '/etc/flow-sandbox/operator.yml' },
  };
  const { settings, warnings } = srtSettings(policy, []);
  t.false(settings.network.allowAllUnixSockets);
  t.deepEqual(settings.network.allowUnixSockets, []);
  t.true(
    warnings.some((w) =>
      /no Unix socket is reachable \(\/var\/run\/docker\.sock included\)/.test(
        w,
      ),
    ),
  );
});

test('git configuration stays readable but .git/config is never made writable', (t) => {
  const { settings } = srtSettings(policyWith([]), []);
  t.false(settings.filesystem.allowGitConfig);
});

test('a literal is left out where a denied block covers it on its port', (t) => {
  const { settings } = srtSettings(
    policyWith(
      ['198.18.0.7:443', '198.18.0.8:443', '198.18.1.9', '198.18.2.9:22'],
      ['198.18.0.0/24:443', '198.18.1.0/24:80', '198.18.2.0/24'],
    ),
    [],
  );
  const literals = settings.network.allowedDomains.filter((d) =>
    d.startsWith('198.18.'),
  );
  t.deepEqual(literals, ['198.18.1.9']);
});

test('many refused blocks make a few warnings and a count, not one each', (t) => {
  const blocks = Array.from({ length: 40 }, (_, i) => `198.18.${i}.0/24`);
  const { warnings } = srtSettings(policyWith(blocks), []);
  const about = warnings.filter((w) =>
    w.includes('cannot allow an address block'),
  );
  t.is(about.length, 6);
  t.regex(about[0]!, /allow entry 198\.18\.0\.0\/24 \(/);
  t.regex(about[5]!, /35 more allow entries that are blocks are refused/);
});
