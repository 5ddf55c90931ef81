// Escape cases, names and addresses behind them: look-alikes, case, dot
// and Unicode variants, proxy-parser tricks, allowed names pointing at
// refused addresses, and the runner's own services.
import { LOOKALIKE_PUNYCODE } from '../../scripts/testnet/topology.js';
import { reachAny } from './escape-network.js';
import type { EscapeCase } from './escape-types.js';

const PORT = '${FSBXT_RUNNER_PORT}';

/** The runner's services answer "fsbxt-host=runner-service" on every address. */
const RUNNER_ADDRESS_WHY =
  "an allowed name is allowed by name, except that no name may lead to the runner itself (loopback, its own addresses) or to link-local addresses: these are refused whatever the name, as SRT's resolved-address check does and as the kernel engine's resolver must";

const PARSER_TRICKS = [
  'outside.test\\x00.gitlab.test',
  'outside.test%00.gitlab.test',
  'outside.test#.gitlab.test',
  'outside.test/.gitlab.test',
  'outside.test:80@a.gitlab.test',
  'outside.test..gitlab.test',
  'outside.test\\t.gitlab.test',
  'outside.test .gitlab.test',
  '198.18.0.20\\x00.gitlab.test',
  'gitlab.test\\x00.outside.test',
  'gitl\\u0430b.test',
];

export const ESCAPE_NAME_CASES: readonly EscapeCase[] = [
  reachAny(
    {
      id: 'esc-name-case-dot',
      description:
        'GITLAB.TEST. and GitLab.Test reach the instance (one canonical form)',
      expected: 'allowed',
      why: 'names compare in one canonical form: lower case, one trailing dot removed; a variant of the instance IS the instance',
    },
    'gitlab',
    ['http://GITLAB.TEST./', 'http://GitLab.Test/'],
  ),
  reachAny(
    {
      id: 'esc-name-unicode-mapped',
      description:
        'gitⅼab.test (U+217C, which IDNA maps to "l") reaches the instance and nothing else',
      expected: 'allowed',
      why: 'UTS #46 maps U+217C to "l": clients ask for gitlab.test itself, the instance',
    },
    'gitlab',
    ['http://gitⅼab.test/'],
  ),
  reachAny(
    {
      id: 'esc-name-trailing-dot',
      description:
        'refused names with a trailing dot (outside.test., gitlab.test.evil.test.)',
      expected: 'refused',
      why: 'one trailing dot is removed before judging; the name stays refused',
      neverQueried: ['outside.test', 'gitlab.test.evil.test'],
    },
    'outside',
    ['http://outside.test./', 'http://gitlab.test.evil.test./'],
  ),
  reachAny(
    {
      id: 'esc-name-unicode-lookalike',
      description:
        'gitlаb.test with a Cyrillic а (its punycode form points at the outside host)',
      expected: 'refused',
      why: 'internationalised names are compared in punycode: xn--gitlb-7ve.test is not gitlab.test',
      neverQueried: [LOOKALIKE_PUNYCODE],
    },
    'outside',
    ['http://gitlаb.test/'],
  ),
  reachAny(
    {
      id: 'esc-name-punycode',
      description: `the look-alike typed as punycode (${LOOKALIKE_PUNYCODE})`,
      expected: 'refused',
      why: 'a punycode name is an ordinary name: not allowed',
      neverQueried: [LOOKALIKE_PUNYCODE],
    },
    'outside',
    [`http://${LOOKALIKE_PUNYCODE}/`],
  ),
  {
    id: 'esc-name-parser-tricks',
    description:
      'raw host names that a lax parser reads as *.gitlab.test but a resolver as outside.test (NUL, %00, #, /, @, tab, space, empty label), sent byte for byte as HTTP, CONNECT and SOCKS',
    expected: 'refused',
    baseline: false,
    why: 'a name is judged exactly as it is resolved; anything malformed is refused',
    neverQueried: ['outside.test'],
    script: [
      'need python3',
      'hit=1',
      'for m in http connect socks; do',
      ...PARSER_TRICKS.map(
        (h) =>
          `  python3 "$PROBES/proxy_probe.py" $m '${h}' 80 outside && hit=0`,
      ),
      'done',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
  },
  {
    id: 'esc-proxy-keepalive',
    description:
      'a second request on a kept-alive proxy connection that first went to the instance, to outside.test and 198.18.0.20',
    expected: 'refused',
    baseline: false,
    why: 'every request is judged, not only the first on a connection',
    neverQueried: ['outside.test'],
    script: [
      'need python3',
      'hit=1',
      'for h in outside.test 198.18.0.20; do',
      '  python3 "$PROBES/proxy_probe.py" keepalive $h 80 outside && hit=0',
      'done',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
  },
  reachAny(
    {
      id: 'esc-name-rebind-outside',
      description:
        'rebind.gitlab.test, an allowed name whose records point at the outside host',
      expected: 'allowed',
      why: "allowed names are allowed by name (DESIGN): whoever controls the instance's zone is trusted like the instance; only the runner's own and link-local addresses are refused behind a name",
    },
    'outside',
    ['http://rebind.gitlab.test/'],
  ),
  {
    id: 'esc-name-rebind-then-literal',
    description:
      'after rebind.gitlab.test resolved to the outside host, that address is still refused by literal',
    expected: 'refused',
    why: 'a name opens its addresses for that name only: the kernel engine answers names with stand-in addresses it translates, and never opens the real ones (src/dns/stand-in.ts)',
    script: [
      'need curl',
      'curl -s --max-time 5 http://rebind.gitlab.test/ >/dev/null',
      'verdict eval "reaches_any_way outside http://198.18.0.20/ || reaches_any_way outside \'http://[2001:db8:18::20]/\'"',
    ].join('\n'),
  },
  reachAny(
    {
      id: 'esc-name-metadata',
      description:
        'meta.gitlab.test, an allowed name pointing at 169.254.169.254',
      expected: 'refused',
      why: RUNNER_ADDRESS_WHY,
    },
    'metadata',
    ['http://meta.gitlab.test/'],
  ),
  reachAny(
    {
      id: 'esc-name-runner-loopback',
      description:
        "loop.gitlab.test, an allowed name pointing at 127.0.0.1/::1, on the runner's service port",
      expected: 'refused',
      why: RUNNER_ADDRESS_WHY,
    },
    'runner-service',
    [`http://loop.gitlab.test:${PORT}/`],
  ),
  reachAny(
    {
      id: 'esc-name-runner-address',
      description:
        "self.gitlab.test, an allowed name pointing at the runner's own address",
      expected: 'refused',
      why: RUNNER_ADDRESS_WHY,
    },
    'runner-service',
    [`http://self.gitlab.test:${PORT}/`],
  ),
  reachAny(
    {
      id: 'esc-runner-loopback-direct',
      description:
        "the runner's loopback services by 127.0.0.1 and [::1], through the proxy or directly",
      expected: 'refused',
      why: "localhost is the sandbox's own loopback; the runner's loopback is another machine's",
    },
    'runner-service',
    [`http://127.0.0.1:${PORT}/`, `http://[::1]:${PORT}/`],
  ),
  {
    id: 'esc-runner-loopback-proxy',
    description:
      'the allowed name localhost asked of the proxy itself (HTTP, CONNECT, SOCKS, LOCALHOST.)',
    expected: 'refused',
    why: "localhost is the sandbox's own loopback; a proxy that dials localhost reaches the runner's (SRT did, until flow-sandbox stopped passing localhost to it)",
    script: [
      'need curl',
      'hit=1',
      `for u in http://localhost:${PORT}/ http://LOCALHOST.:${PORT}/; do`,
      '  reaches runner-service "$u" --noproxy \'\' && hit=0',
      '  reaches runner-service "$u" --noproxy \'\' -p && hit=0',
      '  [ -n "${FTP_PROXY:-}" ] && reaches runner-service "$u" --noproxy \'\' -x "$FTP_PROXY" && hit=0',
      'done',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
  },
  reachAny(
    {
      id: 'esc-runner-address-literal',
      description:
        "the runner's own addresses (198.18.0.2, 2001:db8:18::2) on its service port",
      expected: 'refused',
      why: 'the runner is not an allowed destination',
    },
    'runner-service',
    [`http://198.18.0.2:${PORT}/`, `http://[2001:db8:18::2]:${PORT}/`],
  ),
  {
    id: 'esc-runner-gateway',
    description:
      "every gateway the sandbox has a route through (the runner's end of its link), on the service port",
    expected: 'refused',
    why: "the sandbox's gateway is the runner itself, not an allowed destination",
    // The runner has no gateway: only engines that give the sandbox a link
    // (the kernel engine's veth) have one to probe.
    baseline: false,
    script: `need python3\nverdict python3 "$PROBES/escape_probe.py" gateways "${PORT}"`,
  },
];
