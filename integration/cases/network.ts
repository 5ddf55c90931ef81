// Network verdict cases: names, addresses, DNS and UDP, probed with curl
// and raw sockets. Part of the one table in ../cases.ts.
import type { Verdict, VerdictCase } from './types.js';

const http = (
  id: string,
  description: string,
  expected: Verdict,
  label: string,
  url: string,
  extra: Partial<VerdictCase> = {},
): VerdictCase => ({
  id,
  description,
  expected,
  // A refusal must hold both through the proxy and directly.
  script: `need curl\nverdict ${expected === 'allowed' ? 'reaches' : 'reaches_any_way'} ${label} '${url}'`,
  ...extra,
});

export const NETWORK_CASES: readonly VerdictCase[] = [
  http(
    'curl-instance',
    'curl reaches the instance host gitlab.test',
    'allowed',
    'gitlab',
    'http://gitlab.test/',
  ),
  http(
    'curl-instance-api',
    'curl reaches api.gitlab.test (*.gitlab.test)',
    'allowed',
    'gitlab',
    'http://api.gitlab.test/',
  ),
  http(
    'curl-instance-deep',
    'curl reaches deep.api.gitlab.test (*.x matches any depth)',
    'allowed',
    'gitlab',
    'http://deep.api.gitlab.test/',
  ),
  http(
    'curl-instance-cname',
    'curl reaches cname.gitlab.test, a CNAME to gitlab.test',
    'allowed',
    'gitlab',
    'http://cname.gitlab.test/',
  ),
  {
    id: 'curl-instance-rotating',
    description:
      'rotate.gitlab.test alternates between two instance addresses (TTL 1); three requests a second apart all arrive',
    expected: 'allowed',
    script: [
      'need curl',
      'ok=0',
      'for i in 1 2 3; do',
      '  l=$(host_label http://rotate.gitlab.test/); echo "try $i: ${l:-nothing}" >&2',
      '  case "$l" in gitlab|gitlab2) ok=$((ok + 1)) ;; esac',
      '  [ "$i" = 3 ] || sleep 1.2',
      'done',
      'verdict test "$ok" -eq 3',
    ].join('\n'),
  },
  http(
    'curl-host-docker-internal',
    'curl reaches host.docker.internal (runner /etc/hosts only)',
    'allowed',
    'docker',
    'http://host.docker.internal/',
  ),
  http(
    'curl-outside',
    'curl cannot reach outside.test',
    'refused',
    'outside',
    'http://outside.test/',
    { neverQueried: ['outside.test'] },
  ),
  http(
    'curl-outside-ipv4',
    'curl cannot reach the outside host by IPv4 literal',
    'refused',
    'outside',
    'http://198.18.0.20/',
  ),
  http(
    'curl-outside-ipv6',
    'curl cannot reach the outside host by IPv6 literal',
    'refused',
    'outside',
    'http://[2001:db8:18::20]/',
  ),
  http(
    'curl-lookalike-prefix',
    'evilgitlab.test is not *.gitlab.test',
    'refused',
    'outside',
    'http://evilgitlab.test/',
    { neverQueried: ['evilgitlab.test'] },
  ),
  http(
    'curl-lookalike-suffix',
    'gitlab.test.evil.test is not gitlab.test',
    'refused',
    'outside',
    'http://gitlab.test.evil.test/',
    { neverQueried: ['gitlab.test.evil.test'] },
  ),
  http(
    'curl-metadata',
    'the link-local metadata-like address 169.254.169.254 is unreachable',
    'refused',
    'metadata',
    'http://169.254.169.254/',
  ),
  {
    id: 'curl-resolve-spoof',
    description:
      'an allowed name pinned to the outside address (curl --resolve) does not reach the outside host',
    expected: 'refused',
    script:
      "need curl\nverdict reaches_any_way outside 'http://gitlab.test/' --resolve gitlab.test:80:198.18.0.20",
  },
  {
    id: 'curl-host-header-spoof',
    description:
      'the outside address with Host: gitlab.test does not reach the outside host',
    expected: 'refused',
    script:
      "need curl\nverdict reaches_any_way outside 'http://198.18.0.20/' -H 'Host: gitlab.test'",
  },
  {
    id: 'curl-connect-tunnel-outside',
    description: 'an HTTP CONNECT tunnel to outside.test:80 is refused',
    expected: 'refused',
    neverQueried: ['outside.test'],
    script:
      "need curl\nverdict reaches_any_way outside 'http://outside.test/' --proxytunnel",
  },
  {
    id: 'dns-rogue-udp',
    description:
      'DNS over UDP to another server (the outside host) gets no answer',
    expected: 'refused',
    script:
      'need python3\nverdict python3 "$PROBES/net_probe.py" dns-udp 198.18.0.20 exfil-udp.example',
  },
  {
    id: 'dns-rogue-tcp',
    description: 'DNS over TCP to another server gets no answer',
    expected: 'refused',
    script:
      'need python3\nverdict python3 "$PROBES/net_probe.py" dns-tcp 198.18.0.20 exfil-tcp.example',
  },
  {
    id: 'dns-over-tls-port',
    description: 'TCP 853 (DNS over TLS) on another server is unreachable',
    expected: 'refused',
    script:
      'need python3\nverdict python3 "$PROBES/net_probe.py" greet 198.18.0.20 853 fsbxt-dot',
  },
  {
    id: 'dns-lookup-refused-name',
    description:
      'looking up a refused name yields no address (and never reaches the test DNS server)',
    expected: 'refused',
    neverQueried: ['exfil-lookup.outside.test'],
    script: 'need getent\nverdict getent hosts exfil-lookup.outside.test',
  },
  {
    id: 'udp-outside',
    description: 'UDP to the outside host gets no echo',
    expected: 'refused',
    script:
      'need python3\nverdict python3 "$PROBES/net_probe.py" udp-echo 198.18.0.20 7',
  },
  {
    id: 'udp-instance',
    description: 'UDP is never forwarded, not even to the instance host',
    expected: 'refused',
    script:
      'need python3\nverdict python3 "$PROBES/net_probe.py" udp-echo 198.18.0.10 7',
  },
];
