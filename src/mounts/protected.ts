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

/** Where submodules keep their git directories, each with hooks and config. */
export const GIT_MODULES = '.git/modules';

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
    // Readable git configuration is not writable configuration: hooksPath
    // or fsmonitor there runs code when the runner next uses git.
    at(
      '.git/config',
      allowGitConfig
        ? 'git configuration is readable, not writable (core.hooksPath, core.fsmonitor run code)'
        : 'git configuration is not allowed by the policy',
    ),
  ];
}
