/**
 * Variables that make a program run code it was not asked to: the dynamic
 * loader's, node's and OpenSSL's. A job sets them for its own command;
 * flow-sandbox's privileged steps (the controller itself, bubblewrap, the
 * kernel engine's launch chain) must never start with them. bin/flow-sandbox
 * lists the same names and sets them aside before node starts.
 */
export const LOADER_VARIABLES = [
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_REPL_EXTERNAL_MODULE',
  'NODE_ICU_DATA',
  'NODE_PRESERVE_SYMLINKS',
  'NODE_REDIRECT_WARNINGS',
  'NODE_V8_COVERAGE',
  'NODE_EXTRA_CA_CERTS',
  'NODE_DEBUG',
  'NODE_DEBUG_NATIVE',
  'NODE_PENDING_DEPRECATION',
  'NODE_TLS_REJECT_UNAUTHORIZED',
  'NODE_NO_WARNINGS',
  'UV_THREADPOOL_SIZE',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'LD_AUDIT',
  'LD_DEBUG',
  'LD_DEBUG_OUTPUT',
  'LD_PROFILE',
  'OPENSSL_CONF',
  'OPENSSL_ENGINES',
  'OPENSSL_MODULES',
] as const;

/**
 * Where a set-aside variable travels: an inert name (not FLOW_SANDBOX_*,
 * which names the controller's own settings, never shown to the command).
 */
export const JOB_PREFIX = 'FSBX_JOB_';
const NAMES = `${JOB_PREFIX}NAMES`;

/**
 * The command's environment: the job's, without flow-sandbox's settings,
 * and with the variables the launcher set aside (NODE_OPTIONS, LD_PRELOAD,
 * ...) back under their own names.
 */
export function commandEnv(
  env: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (k.startsWith(JOB_PREFIX)) out[k.slice(JOB_PREFIX.length)] = v;
    else if (!k.startsWith('FLOW_SANDBOX_')) out[k] = v;
  }
  return out;
}

/**
 * The environment a privileged launch starts with: the command's, with
 * the loader variables renamed (inert) and their names listed, for
 * RESTORE_JOB_ENV to put back once nothing privileged is left to run.
 */
export function launchEnv(env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  const moved: string[] = [];
  for (const name of LOADER_VARIABLES) {
    const value = out[name];
    if (value === undefined) continue;
    delete out[name];
    out[`${JOB_PREFIX}${name}`] = value;
    moved.push(name);
  }
  if (moved.length) out[NAMES] = moved.join(' ');
  return out;
}

/**
 * Shell text, run inside the sandbox without privileges right before the
 * command starts, that gives the command its loader variables back. The
 * names come from LOADER_VARIABLES only, so `eval` sees nothing else.
 */
export const RESTORE_JOB_ENV = `for fsbx_n in \${${NAMES}:-}; do case "$fsbx_n" in ${LOADER_VARIABLES.join('|')}) eval "export $fsbx_n=\\"\\$${JOB_PREFIX}$fsbx_n\\"; unset ${JOB_PREFIX}$fsbx_n" ;; esac; done; unset ${NAMES} fsbx_n;`;
