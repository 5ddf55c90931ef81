import test from 'ava';
import { defaultPolicy } from '../../../src/policy/defaults.js';
import { parseNetworkEntry } from '../../../src/policy/entries.js';
import { applyLayer, emptyLayer } from '../../../src/policy/layer.js';
import { srtSettings } from '../../../src/engines/srt/settings.js';

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
      allowedDomains: [
        'localhost',
        'host.docker.internal',
        'gitlab.test',
        '*.gitlab.test',
      ],
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
      allowGitConfig: true,
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
  t.deepEqual(settings.network.allowedDomains.slice(4), [
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
