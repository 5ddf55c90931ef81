// Filesystem and local verdict cases: git config, ~/.ssh, writes, a
// server on loopback. Part of the one table in ../cases.ts.
import type { VerdictCase } from './types.js';

export const LOCAL_CASES: readonly VerdictCase[] = [
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
