// The shape of the private test internet: every address, name and label in
// one place, so tests, the DNS zone and the servers cannot disagree.
//
// Only 198.18.0.0/15 (RFC 2544 benchmarking) and 2001:db8::/32
// (documentation) are used, plus one link-local address for the
// metadata-like host; none of them is routed off this machine, and all of
// them live only inside namespaces the test network creates.

/** The test bridge's subnets; engine address pools must avoid them. */
export const SUBNET4 = '198.18.0.0/24';
export const SUBNET6 = '2001:db8:18::/64';
export const PREFIX4 = 24;
export const PREFIX6 = 64;

/** The link-local address of the metadata-like host (on-link from the runner). */
export const METADATA4 = '169.254.169.254';

/** One namespace on the bridge: its short key and its addresses. */
export interface HostSpec {
  /** Short key, part of the namespace name (fsbxt<id>-<key>). */
  key: string;
  ipv4: string[];
  ipv6: string[];
  /** Extra /32 addresses without a subnet route (link-local metadata). */
  extra4?: string[];
}

export const RUNNER: HostSpec = {
  key: 'run',
  ipv4: ['198.18.0.2'],
  ipv6: ['2001:db8:18::2'],
};

/** Test hosts; the label in each HTTP body comes from ADDRESS_LABELS. */
export const HOSTS: readonly HostSpec[] = [
  { key: 'dns', ipv4: ['198.18.0.53'], ipv6: ['2001:db8:18::53'] },
  {
    key: 'gl',
    ipv4: ['198.18.0.10', '198.18.0.11'],
    ipv6: ['2001:db8:18::10', '2001:db8:18::11'],
  },
  {
    key: 'out',
    ipv4: ['198.18.0.20'],
    ipv6: ['2001:db8:18::20'],
    extra4: [METADATA4],
  },
  { key: 'dock', ipv4: ['198.18.0.30'], ipv6: ['2001:db8:18::30'] },
];

/** Which host answered, by the local address a connection arrived on. */
export const ADDRESS_LABELS: Readonly<Record<string, string>> = {
  '198.18.0.53': 'dns',
  '2001:db8:18::53': 'dns',
  '198.18.0.10': 'gitlab',
  '2001:db8:18::10': 'gitlab',
  '198.18.0.11': 'gitlab2',
  '2001:db8:18::11': 'gitlab2',
  '198.18.0.20': 'outside',
  '2001:db8:18::20': 'outside',
  [METADATA4]: 'metadata',
  '198.18.0.30': 'docker',
  '2001:db8:18::30': 'docker',
};

export const DNS_SERVER4 = '198.18.0.53';
export const DNS_SERVER6 = '2001:db8:18::53';
export const GITLAB4 = '198.18.0.10';
export const GITLAB6 = '2001:db8:18::10';
export const GITLAB2_4 = '198.18.0.11';
export const GITLAB2_6 = '2001:db8:18::11';
export const OUTSIDE4 = '198.18.0.20';
export const OUTSIDE6 = '2001:db8:18::20';
export const DOCKER4 = '198.18.0.30';
export const RUNNER4 = RUNNER.ipv4[0]!;
export const RUNNER6 = RUNNER.ipv6[0]!;

/** `gitlаb.test` with a Cyrillic а (U+0430), as a client sends it (punycode). */
export const LOOKALIKE_PUNYCODE = 'xn--gitlb-7ve.test';

/** The instance's host name (CI_SERVER_HOST in tests). */
export const INSTANCE_HOST = 'gitlab.test';

/** One name in the test zone. */
export type ZoneEntry =
  | { a: string[]; aaaa: string[] }
  | { cname: string }
  | { rotate4: string[]; rotate6: string[] };

/** The zone `test.` (`*.x` entries match any depth below x); anything else is NXDOMAIN. */
export const ZONE: Readonly<Record<string, ZoneEntry>> = {
  'gitlab.test': { a: [GITLAB4], aaaa: [GITLAB6] },
  'api.gitlab.test': { a: [GITLAB4], aaaa: [GITLAB6] },
  'deep.api.gitlab.test': { a: [GITLAB4], aaaa: [GITLAB6] },
  'cname.gitlab.test': { cname: 'gitlab.test' },
  'rotate.gitlab.test': {
    rotate4: [GITLAB4, GITLAB2_4],
    rotate6: [GITLAB6, GITLAB2_6],
  },
  'outside.test': { a: [OUTSIDE4], aaaa: [OUTSIDE6] },
  'evilgitlab.test': { a: [OUTSIDE4], aaaa: [OUTSIDE6] },
  'gitlab.test.evil.test': { a: [OUTSIDE4], aaaa: [OUTSIDE6] },
  'evil.test': { a: [OUTSIDE4], aaaa: [OUTSIDE6] },
  // Any name below these exists, so exfiltration-style lookups resolve
  // when nothing stops them.
  '*.outside.test': { a: [OUTSIDE4], aaaa: [OUTSIDE6] },
  '*.evil.test': { a: [OUTSIDE4], aaaa: [OUTSIDE6] },
  'dns.test': { a: [DNS_SERVER4], aaaa: [DNS_SERVER6] },
  // Escape suite: allowed names whose records point where a sandbox must
  // judge the address, not only the name (integration/cases/escape-*.ts).
  'rebind.gitlab.test': { a: [OUTSIDE4], aaaa: [OUTSIDE6] },
  'meta.gitlab.test': { a: [METADATA4], aaaa: [] },
  'loop.gitlab.test': { a: ['127.0.0.1'], aaaa: ['::1'] },
  'self.gitlab.test': { a: [RUNNER4], aaaa: [RUNNER6] },
  [LOOKALIKE_PUNYCODE]: { a: [OUTSIDE4], aaaa: [OUTSIDE6] },
};

/** TTL of ordinary answers; the rotating name uses 1 s. */
export const ZONE_TTL = 60;
export const ROTATE_TTL = 1;

/** Names only the runner's /etc/hosts knows, as Docker writes them. */
export const RUNNER_HOSTS_FILE = [
  '127.0.0.1 localhost',
  '::1 localhost ip6-localhost ip6-loopback',
  `${DOCKER4} host.docker.internal`,
  '',
].join('\n');

/** Ports the test hosts listen on. */
export const PORTS = {
  http: 80,
  dns: 53,
  dot: 853,
  udpEcho: 7,
  /** UDP echo on 443 too, where QUIC (HTTP/3) would go. */
  quic: 443,
} as const;
