// The same requests from the clients an agent uses: python3 urllib, Node
// and git. Part of the one table in ../cases.ts.
import type { Gap, VerdictCase } from './types.js';

const NODE_FETCH_GAP: Gap = {
  observed: 'refused',
  why: 'Node 20 fetch ignores HTTP(S)_PROXY, and SRT leaves the sandbox no route but its proxies',
};

export const CLIENT_CASES: readonly VerdictCase[] = [
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
];
