import path from 'node:path';
import { byExistence } from './created.js';

/**
 * Files in the working directory that run code or change tools on the next
 * use (shell start-up files, git hooks, editor and agent settings). They
 * stay read-only although the directory is writable, as SRT does, so every
 * engine protects the same names.
 */
export const PROTECTED_FILES = [
  '.gitconfig',
  '.gitmodules',
  '.bashrc',
  '.bash_profile',
  '.zshrc',
  '.zprofile',
  '.profile',
  '.ripgreprc',
  '.mcp.json',
  // Claude Code's project settings: their hooks run for the next agent.
  '.claude/settings.json',
  '.claude/settings.local.json',
];

export const PROTECTED_DIRECTORIES = [
  '.vscode',
  '.idea',
  '.claude/commands',
  '.claude/agents',
];

/** Files and directories in .git that make git read configuration elsewhere. */
export const GIT_REDIRECTS = [
  '.git/commondir',
  '.git/config.worktree',
  '.git/worktrees',
];

/**
 * Protected paths SRT does not protect by itself (it knows the names
 * above and .git/hooks and .git/config): flow-sandbox adds them.
 */
export const SRT_EXTRA_PROTECTED = [
  '.git/modules',
  ...GIT_REDIRECTS,
  '.claude/settings.json',
  '.claude/settings.local.json',
];

/**
 * Directories that hold protected paths: each is made a mount point of
 * its own (bound onto itself), so the command cannot rename it away and
 * put a writable copy in its place.
 */
export const PROTECTED_PARENTS = ['.git', '.claude'];

/** The protected paths in a working directory, each with the reason. */
export function protectedPaths(options: {
  cwd: string;
  allowGitConfig: boolean;
}): Array<{ path: string; why: string }> {
  const { cwd, allowGitConfig } = options;
  const at = (name: string, why: string) => ({
    path: path.join(cwd, name),
    why,
  });
  return [
    ...PROTECTED_FILES.map((name) => at(name, 'runs or configures tools')),
    ...PROTECTED_DIRECTORIES.map((name) =>
      at(name, 'editor and agent settings'),
    ),
    at('.git/hooks', 'git hooks run code outside the sandbox later'),
    at(
      '.git/modules',
      "submodules' hooks and configuration run code outside the sandbox later",
    ),
    // Each of these points git at other configuration and hooks: a
    // directory named in commondir, per-worktree config, linked worktrees.
    ...GIT_REDIRECTS.map((name) =>
      at(name, 'points git at configuration and hooks elsewhere'),
    ),
    // Readable either way (allow_git_config means readable); never
    // writable: core.hooksPath or core.fsmonitor written here would run
    // code outside the sandbox at the runner's next git command.
    at(
      '.git/config',
      allowGitConfig
        ? 'readable, not writable: a written core.hooksPath or core.fsmonitor runs code outside the sandbox'
        : 'git configuration is not allowed by the policy',
    ),
  ];
}

/**
 * The protected names of a working directory that do not exist now (and
 * `.claude`, the parent of two of them): where a sandbox may leave empty
 * placeholders behind.
 */
export async function absentProtectedPaths(cwd: string): Promise<string[]> {
  const names = [...PROTECTED_FILES, ...PROTECTED_DIRECTORIES, '.claude'];
  return (await byExistence(names.map((name) => path.join(cwd, name)))).absent;
}
