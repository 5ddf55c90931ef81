// THE table of verdict cases: every engine (SRT, kernel, Docker) is run
// against it, so "one policy, one meaning" is checked, not hoped for.
//
// Each script runs inside the sandbox with scripts/flow/probe-lib.sh loaded
// and prints "allowed" when the action observably happened (the HTTP body
// names the host asked for, the secret was read, the file was written) and
// "refused" otherwise. Run without a sandbox in the test network (the
// baseline), every case observes "allowed": a refusal under a sandbox is
// therefore the sandbox's doing, never a broken test host or missing tool.
//
// The policy under test is the default one with CI_SERVER_HOST=gitlab.test.

export type Verdict = 'allowed' | 'refused';
/** Engines the table is run against; `none` has no gaps: no sandbox, no excuses. */
export type EngineName = 'srt' | 'kernel' | 'docker' | 'none';

/** An engine's known, documented deviation from the expected verdict. */
export interface Gap {
  observed: Verdict;
  why: string;
}

export interface VerdictCase {
  id: string;
  description: string;
  /** POSIX sh; helpers from scripts/flow/probe-lib.sh. */
  script: string;
  expected: Verdict;
  /** Names the test DNS server must never be asked while a sandbox runs. */
  neverQueried?: string[];
  /** False when running it unsandboxed would change the host (e.g. /etc). */
  baseline?: boolean;
  gaps?: Partial<Record<EngineName, Gap>>;
}

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

const NODE_FETCH_GAP: Gap = {
  observed: 'refused',
  why: 'Node 20 fetch ignores HTTP(S)_PROXY, and SRT leaves the sandbox no route but its proxies',
};

export const CASES: readonly VerdictCase[] = [
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
  {
    id: 'python-instance',
    description: 'python3 urllib reaches gitlab.test',
    expected: 'allowed',
    script:
      'need python3\nverdict python3 "$PROBES/http_probe.py" http://gitlab.test/ gitlab',
  },
  {
    id: 'python-outside',
    description:
      'python3 urllib cannot reach outside.test, through the proxy or directly',
    expected: 'refused',
    neverQueried: ['outside.test'],
    script: [
      'need python3',
      'p="$PROBES/http_probe.py"',
      'verdict eval \'python3 "$p" http://outside.test/ outside || python3 "$p" http://outside.test/ outside --direct\'',
    ].join('\n'),
  },
  {
    id: 'node-http-instance',
    description:
      'node:http (proxy-aware, like curl/git/urllib) reaches gitlab.test',
    expected: 'allowed',
    script:
      'need node\nverdict node "$PROBES/http_probe.mjs" http http://gitlab.test/ gitlab',
  },
  {
    id: 'node-http-outside',
    description:
      'node:http cannot reach outside.test, through the proxy or directly',
    expected: 'refused',
    neverQueried: ['outside.test'],
    script: [
      'need node',
      'p="$PROBES/http_probe.mjs"',
      'verdict eval \'node "$p" http http://outside.test/ outside || node "$p" http http://outside.test/ outside --direct\'',
    ].join('\n'),
  },
  {
    id: 'node-fetch-instance',
    description: 'Node fetch (ignores proxy variables) reaches gitlab.test',
    expected: 'allowed',
    script:
      'need node\nverdict node "$PROBES/http_probe.mjs" fetch http://gitlab.test/ gitlab',
    gaps: { srt: NODE_FETCH_GAP },
  },
  {
    id: 'node-fetch-outside',
    description: 'Node fetch cannot reach outside.test',
    expected: 'refused',
    neverQueried: ['outside.test'],
    script:
      'need node\nverdict node "$PROBES/http_probe.mjs" fetch http://outside.test/ outside',
  },
  {
    id: 'git-clone-instance',
    description:
      'git clone http://gitlab.test/project.git works and holds the instance README',
    expected: 'allowed',
    script: [
      'need git',
      'd=$(scratch)',
      'verdict eval \'git clone -q http://gitlab.test/project.git "$d/p" && grep -qx fsbxt-repo=gitlab "$d/p/README"\'',
      'rm -rf "$d"',
    ].join('\n'),
  },
  {
    id: 'git-clone-outside',
    description:
      'git clone from the outside host fails, through the proxy or directly',
    expected: 'refused',
    neverQueried: ['outside.test'],
    script: [
      'need git',
      'd=$(scratch)',
      'u=http://outside.test/project.git',
      'verdict eval \'{ git clone -q "$u" "$d/a" || direct git clone -q "$u" "$d/b"; } && grep -qx fsbxt-repo=outside "$d"/*/README\'',
      'rm -rf "$d"',
    ].join('\n'),
  },
  {
    id: 'git-config-readable',
    description: "git config --list shows the user's ~/.gitconfig",
    expected: 'allowed',
    script:
      "need git\nverdict eval 'git config --list | grep -qx fsbxt.marker=gitconfig-readable'",
  },
  {
    id: 'ssh-key-read',
    description: '~/.ssh/id_rsa cannot be read, by its path or by detours',
    expected: 'refused',
    script: [
      'found=1',
      'for f in "$HOME/.ssh/id_rsa" "$HOME/./.ssh/id_rsa" "/proc/self/root$HOME/.ssh/id_rsa" "$HOME/.ssh/../.ssh/id_rsa"; do',
      '  grep -q FSBXT-SECRET "$f" 2>/dev/null && { echo "read $f" >&2; found=0; }',
      'done',
      'verdict test "$found" -eq 0',
    ].join('\n'),
  },
  {
    id: 'ssh-dir-list',
    description: '~/.ssh shows no key files',
    expected: 'refused',
    script: 'verdict eval \'ls -a "$HOME/.ssh" 2>/dev/null | grep -q id_rsa\'',
  },
  {
    id: 'write-cwd',
    description: 'a file can be written in the working directory',
    expected: 'allowed',
    script: 'verdict wrote "./fsbxt-write-probe.$$"',
  },
  {
    id: 'write-tmp',
    description: 'a file can be written in /tmp',
    expected: 'allowed',
    script: 'verdict wrote "/tmp/fsbxt-write-probe.$$"',
  },
  {
    id: 'write-home',
    description: 'nothing can be written in $HOME',
    expected: 'refused',
    script: 'verdict wrote "$HOME/fsbxt-write-probe.$$"',
  },
  {
    id: 'write-ssh-dir',
    description: 'nothing can be written in ~/.ssh',
    expected: 'refused',
    script: 'verdict wrote "$HOME/.ssh/authorized_keys.fsbxt.$$"',
    gaps: {
      srt: {
        observed: 'allowed',
        why: 'SRT hides a denied directory under a writable tmpfs: the write succeeds inside the sandbox and vanishes with it (the host file is untouched)',
      },
    },
  },
  {
    id: 'write-etc',
    description: 'nothing can be written in /etc',
    expected: 'refused',
    baseline: false,
    script: 'verdict wrote "/etc/fsbxt-write-probe.$$"',
  },
  {
    id: 'local-tcp-server',
    description:
      'a TCP server bound on 127.0.0.1 inside the sandbox answers a client inside it',
    expected: 'allowed',
    script: 'need python3\nverdict python3 "$PROBES/net_probe.py" local-server',
  },
];

/** The verdict an engine is expected to show, its documented gap included. */
export function expectedFor(c: VerdictCase, engine: EngineName): Verdict {
  return c.gaps?.[engine]?.observed ?? c.expected;
}
