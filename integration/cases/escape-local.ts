// Escape cases, filesystem: the SSH key through links, /proc, renames and
// mounts; writes outside the allowed paths; git hooks; the engine's state.
import { NONCE, PRE_LINKS, type EscapeCase } from './escape-types.js';

/** secret FILE...: succeeds when one of the files shows the SSH key's secret. */
const SECRET =
  'secret() { for f in "$@"; do grep -q FSBXT-SECRET "$f" 2>/dev/null && { echo "read $f" >&2; return 0; }; done; return 1; }';

const HIDDEN_WHY =
  '~/.ssh is denied for reading: its key must not be readable under any name';

export const ESCAPE_LOCAL_CASES: readonly EscapeCase[] = [
  {
    id: 'esc-ssh-links-inside',
    description:
      'symlinks and hard links to ~/.ssh/id_rsa and ~/.ssh made inside the sandbox, in cwd and /tmp',
    expected: 'refused',
    why: HIDDEN_WHY,
    script: [
      SECRET,
      'k="$HOME/.ssh/id_rsa"; found=1; d=$(scratch)',
      'for dir in . "$d"; do',
      '  ln -s "$k" "$dir/fsbxt-in-sym.$$" 2>/dev/null',
      '  ln -s "$HOME/.ssh" "$dir/fsbxt-in-dir.$$" 2>/dev/null',
      '  ln "$k" "$dir/fsbxt-in-hard.$$" 2>/dev/null',
      '  secret "$dir/fsbxt-in-sym.$$" "$dir/fsbxt-in-dir.$$/id_rsa" "$dir/fsbxt-in-hard.$$" && found=0',
      '  rm -f "$dir/fsbxt-in-sym.$$" "$dir/fsbxt-in-dir.$$" "$dir/fsbxt-in-hard.$$"',
      'done',
      'rmdir "$d"',
      'verdict test "$found" -eq 0',
    ].join('\n'),
  },
  {
    id: 'esc-ssh-prelinked-symlink',
    description:
      'symlinks to the key and to ~/.ssh that the runner left in the work directory',
    expected: 'refused',
    why: HIDDEN_WHY,
    script: `${SECRET}\nverdict secret ./${PRE_LINKS.sshSymlink} ./${PRE_LINKS.sshDirLink}/id_rsa`,
  },
  {
    id: 'esc-ssh-prelinked-hardlink',
    description:
      'a hard link to the key that the runner left in the work directory',
    expected: 'refused',
    why: HIDDEN_WHY,
    script: `${SECRET}\nverdict secret ./${PRE_LINKS.sshHardlink}`,
  },
  {
    id: 'esc-ssh-proc-root',
    description:
      'the key through /proc/<pid>/root and /proc/<pid>/cwd of every visible process, /proc/self and /proc/1',
    expected: 'refused',
    why: HIDDEN_WHY,
    script: [
      SECRET,
      'found=1',
      'for p in /proc/[0-9]* /proc/self /proc/thread-self; do',
      '  secret "$p/root$HOME/.ssh/id_rsa" "$p/cwd/../home/.ssh/id_rsa" && found=0',
      'done',
      'secret "/proc/self/root/proc/1/root$HOME/.ssh/id_rsa" && found=0',
      'verdict test "$found" -eq 0',
    ].join('\n'),
  },
  {
    id: 'esc-ssh-rename',
    description:
      'moving ~/.ssh (or the key out of it) away to read it under the new name',
    expected: 'refused',
    why: `${HIDDEN_WHY}; the directory and the key stay where they are`,
    script: [
      SECRET,
      'found=1; m="$HOME/.ssh.fsbxt-moved.$$"',
      'if mv "$HOME/.ssh" "$m" 2>/dev/null; then secret "$m/id_rsa" && found=0; mv "$m" "$HOME/.ssh"; fi',
      'if mv "$HOME/.ssh/id_rsa" "./fsbxt-moved-key.$$" 2>/dev/null; then secret "./fsbxt-moved-key.$$" && found=0; mv "./fsbxt-moved-key.$$" "$HOME/.ssh/id_rsa"; fi',
      'verdict test "$found" -eq 0',
    ].join('\n'),
  },
  {
    id: 'esc-ssh-mount-reveal',
    description:
      'a non-recursive bind mount of / (as is, or in a new user+mount namespace) or umount of ~/.ssh, to see under the hiding mount',
    expected: 'refused',
    why: `${HIDDEN_WHY}; the command gets no mount rights that could undo the hiding`,
    script: [
      SECRET,
      // Never rm -r here: a bind of / may still be mounted below $d.
      'found=1; d=$(scratch); mkdir "$d/r"',
      'if mount --bind / "$d/r" 2>/dev/null; then secret "$d/r$HOME/.ssh/id_rsa" && found=0; umount "$d/r"; fi',
      'if command -v unshare >/dev/null; then',
      '  unshare -Urm sh -c \'mount --bind / "$1" && grep -q FSBXT-SECRET "$1$2/.ssh/id_rsa"\' x "$d/r" "$HOME" 2>/dev/null && found=0',
      '  unshare -Urm sh -c \'umount -l "$1/.ssh" && grep -q FSBXT-SECRET "$1/.ssh/id_rsa"\' x "$HOME" 2>/dev/null && found=0',
      'fi',
      'rmdir "$d/r" "$d"',
      'verdict test "$found" -eq 0',
    ].join('\n'),
  },
  {
    id: 'esc-write-symlink-home',
    description: 'a symlink made in cwd to $HOME, written through',
    expected: 'refused',
    why: 'writes are allowed in cwd and /tmp only, whatever path leads there',
    script: [
      'ln -s "$HOME" "./fsbxt-home-link.$$"',
      'verdict wrote "./fsbxt-home-link.$$/fsbxt-write-probe.$$"',
      'rm -f "./fsbxt-home-link.$$"',
    ].join('\n'),
  },
  {
    id: 'esc-write-symlink-etc',
    description: 'a symlink made in cwd to /etc, written through',
    expected: 'refused',
    baseline: false,
    why: 'writes are allowed in cwd and /tmp only, whatever path leads there',
    script: [
      'ln -s /etc "./fsbxt-etc-link.$$"',
      'verdict wrote "./fsbxt-etc-link.$$/fsbxt-write-probe.$$"',
      'rm -f "./fsbxt-etc-link.$$"',
    ].join('\n'),
  },
  {
    id: 'esc-write-dotdot',
    description: 'writes through .. out of cwd and out of /tmp',
    expected: 'refused',
    why: 'writes are allowed in cwd and /tmp only, whatever path leads there',
    script:
      'verdict eval \'wrote "./../fsbxt-dotdot.$$" || wrote "/tmp/../var/tmp/fsbxt-dotdot.$$"\'',
  },
  {
    id: 'esc-write-prelinked-symlink',
    description:
      'a symlink to $HOME that the runner left in the work directory, written through',
    expected: 'refused',
    why: 'writes are allowed in cwd and /tmp only, whatever path leads there',
    script: `verdict wrote "./${PRE_LINKS.homeLink}/fsbxt-write-probe.$$"`,
  },
  {
    id: 'esc-write-prelinked-hardlink',
    description:
      'a hard link to a file outside the allowed paths that the runner left in the work directory, written through',
    expected: 'refused',
    why: 'writes are allowed in cwd and /tmp only: a file that lives elsewhere must not change (flow-sandbox gives such a file a copy of its own before the command starts, src/mounts/copies.ts)',
    script: [
      `f=./${PRE_LINKS.outsideHardlink}; before=$(cat "$f" 2>/dev/null)`,
      '{ echo "fsbxt-modified-$$" >> "$f"; } 2>/dev/null',
      'verdict grep -q "fsbxt-modified-$$" "$FSBXT_OUTSIDE_FILE"',
      'printf "%s\\n" "$before" > "$f" 2>/dev/null',
    ].join('\n'),
  },
  {
    id: 'esc-write-git-hooks',
    description: 'a hook written straight into the checkout’s .git/hooks',
    expected: 'refused',
    why: 'a hook runs later, outside the sandbox, when the runner uses git in this checkout',
    script: 'verdict wrote ".git/hooks/post-checkout"',
  },
  {
    id: 'esc-write-git-config-exec',
    description:
      'core.hooksPath or core.fsmonitor set in the checkout’s .git/config (code the runner’s next git command would run)',
    expected: 'refused',
    why: 'the policy makes git configuration readable, not a way to run code outside the sandbox later',
    script: [
      'need git',
      'hit=1',
      'git config core.hooksPath "/tmp/fsbxt-hooks-$$" 2>/dev/null && { hit=0; git config --unset core.hooksPath; }',
      'git config core.fsmonitor "true fsbxt-$$" 2>/dev/null && { hit=0; git config --unset core.fsmonitor; }',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
  },
  {
    id: 'esc-write-git-submodule-hooks',
    description:
      'a hook or core.hooksPath written into a submodule’s git directory (.git/modules/<name>/)',
    expected: 'refused',
    why: "a submodule's hooks run outside the sandbox when the runner updates submodules in this checkout",
    script: [
      'need git',
      'm=.git/modules/fsbxt-sub; hit=1',
      'wrote "$m/hooks/post-checkout" && hit=0',
      'git --git-dir="$m" config core.hooksPath "/tmp/fsbxt-hooks-$$" 2>/dev/null && { hit=0; git --git-dir="$m" config --unset core.hooksPath; }',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
  },
  {
    id: 'esc-write-protected-absent',
    description:
      'a protected file that did not exist yet (.mcp.json, agent settings) created in the work directory',
    expected: 'refused',
    why: 'files that configure tools on their next use stay as they were, existing or not: an .mcp.json left in a checkout would start programs for the next agent',
    script: `{ echo '{}' > .mcp.json; } 2>/dev/null\nverdict true`,
    after: { kind: 'file', path: '${FSBXT_WORK}/.mcp.json' },
  },
  {
    id: 'esc-write-git-commondir',
    description:
      '.git/commondir written to point git at a copy of .git with a hook and core.fsmonitor of the job’s making',
    expected: 'refused',
    why: "git reads configuration and hooks from the directory commondir names: they would run outside the sandbox at the runner's next git command",
    script: `{ echo ../fsbxt-evil-git > .git/commondir; } 2>/dev/null\nverdict true`,
    after: { kind: 'file', path: '${FSBXT_WORK}/.git/commondir' },
  },
  {
    id: 'esc-write-git-renamed',
    description:
      '.git renamed away, and a writable copy with a hook put in its place',
    expected: 'refused',
    why: "the protections of .git/hooks and .git/config are by path: a copy in .git's place would carry the job's hooks to the runner's next git command",
    script: [
      'need git',
      'verdict eval \'mv .git ".git-fsbxt-$$" 2>/dev/null\'',
      'if [ -d ".git-fsbxt-$$" ]; then mv ".git-fsbxt-$$" .git; fi',
    ].join('\n'),
  },
  {
    id: 'esc-write-claude-settings',
    description:
      "Claude Code's project settings (.claude/settings.json, whose hooks run for the next agent) written in the work directory",
    expected: 'refused',
    why: 'files that configure tools on their next use stay as they were, existing or not',
    script: `{ mkdir -p .claude && echo '{}' > .claude/settings.json; } 2>/dev/null\nverdict true`,
    after: { kind: 'file', path: '${FSBXT_WORK}/.claude/settings.json' },
  },
  {
    id: 'esc-sysv-ipc',
    description:
      "the runner's SysV IPC namespace (shared memory, semaphores, message queues of root services)",
    expected: 'refused',
    why: 'SysV IPC is a channel to the runner’s processes that no network rule sees',
    script:
      'verdict test "$(readlink /proc/self/ns/ipc)" = "$FSBXT_RUNNER_IPC"',
  },
  {
    id: 'esc-write-dev-shm',
    description: 'a file written to /dev/shm outlives the sandbox on the host',
    expected: 'refused',
    why: 'writes are allowed in cwd and /tmp only; a private /dev/shm that vanishes is fine',
    script: `{ echo x > /dev/shm/fsbxt-${NONCE}-shm; } 2>/dev/null\nverdict true`,
    after: { kind: 'file', path: `/dev/shm/fsbxt-${NONCE}-shm` },
  },
  {
    id: 'esc-state-read',
    description:
      "flow-sandbox's state directory (this run's and other runs' settings) is readable",
    expected: 'refused',
    why: "flow-sandbox's state is hidden from the command: it shows how the sandbox is built and other jobs' policies",
    script: [
      'hit=1',
      'for f in "$FSBXT_STATE_ROOT"/* "$FSBXT_STATE_ROOT"/*/*; do',
      '  [ -f "$f" ] && grep -q . "$f" 2>/dev/null && { echo "read $f" >&2; hit=0; }',
      'done',
      'verdict test "$hit" -eq 0',
    ].join('\n'),
  },
  {
    id: 'esc-state-replace',
    description:
      "a file planted in flow-sandbox's state directory (next to a run's settings) reaches the host",
    expected: 'refused',
    why: "flow-sandbox's state is not writable by the command",
    script: [
      'for d in "$FSBXT_STATE_ROOT"/*/; do',
      `  { echo '{}' > "\${d%/}/fsbxt-planted-${NONCE}"; } 2>/dev/null`,
      'done',
      'verdict true',
    ].join('\n'),
    after: {
      kind: 'file',
      path: `\${FSBXT_STATE_ROOT}/fsbxt-decoy-run/fsbxt-planted-${NONCE}`,
    },
  },
];
