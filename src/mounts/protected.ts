import path from 'node:path';

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
];

export const PROTECTED_DIRECTORIES = [
  '.vscode',
  '.idea',
  '.claude/commands',
  '.claude/agents',
];

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
