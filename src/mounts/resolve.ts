import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { SandboxError } from '../errors.js';
import { DEV_NODES } from './dev.js';
import { boundSockets } from './unix-sockets.js';
import type { ResolvedStep } from './fstab.js';
import type { MountPlan, MountStep, SocketPlan, SocketRoot } from './plan.js';

// Bounds the scan on hosts with large /run trees; sockets deeper or beyond
// this stay reachable, which the plan's warnings say.
const SOCKET_SCAN_LIMIT = 5_000;

async function exists(p: string) {
  return stat(p).then(
    (s) => s,
    () => undefined,
  );
}

async function resolveDev(
  step: Extract<MountStep, { kind: 'dev' }>,
): Promise<ResolvedStep> {
  const found = await Promise.all(
    DEV_NODES.map(async (node) =>
      (await exists(`/dev/${node}`))?.isCharacterDevice() ? node : undefined,
    ),
  );
  const pts = (await exists('/dev/pts'))?.isDirectory() ?? false;
  return { ...step, nodes: found.filter((n): n is string => !!n), pts };
}

async function resolveStep(step: MountStep): Promise<ResolvedStep | undefined> {
  if (step.kind === 'proc') return step;
  if (step.kind === 'dev') return resolveDev(step);
  if (step.kind === 'file') {
    // Mounting onto a symlink mounts onto its target; a dangling one cannot be mounted over.
    const target = await realpath(step.target).catch(() => undefined);
    if (!target) {
      throw new SandboxError(
        'APPLY_FAILED',
        `cannot show the sandbox its own ${step.target}: the path does not exist or is a dangling symlink on this runner`,
      );
    }
    return { ...step, target };
  }
  const found = await exists(step.path);
  if (!found) {
    if (step.optional) return undefined;
    throw new SandboxError(
      'APPLY_FAILED',
      `${step.path} does not exist (${step.why})`,
    );
  }
  return step.kind === 'hide'
    ? { ...step, isDirectory: found.isDirectory() }
    : step;
}

// Walks from the root's real path; symlinks inside are not followed, so the
// paths found are real ones and need no realpath each.
async function findSockets(
  root: SocketRoot & { real: string },
): Promise<string[]> {
  const found: string[] = [];
  let visited = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > root.depth || visited > SOCKET_SCAN_LIMIT) return;
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true }).catch(
      () => [],
    );
    for (const entry of entries) {
      visited++;
      const full = path.join(dir, entry.name);
      if (entry.isSocket()) found.push(full);
      else if (entry.isDirectory()) await walk(full, depth + 1);
    }
  };
  await walk(root.real, 1);
  return found;
}

function isUnder(p: string, dirs: string[]): boolean {
  return dirs.some((dir) => p === dir || p.startsWith(`${dir}/`));
}

/** Sockets found on this host that the policy does not allow, as hide steps. */
async function socketSteps(
  plan: SocketPlan,
  hiddenDirs: string[],
): Promise<{ required: ResolvedStep[]; bestEffort: ResolvedStep[] }> {
  if (!plan.hide) return { required: [], bestEffort: [] };
  const allowed = await Promise.all(
    plan.allowed.map((p) => realpath(p).catch(() => p)),
  );
  // /var/run is usually a link to /run: each real directory is walked once.
  const real = await Promise.all(
    plan.roots.map(async (root) => ({
      ...root,
      real: await realpath(root.path).catch(() => ''),
    })),
  );
  const roots = real.filter(
    (r, i) => r.real && real.findIndex((o) => o.real === r.real) === i,
  );
  const perRoot = await Promise.all(roots.map(findSockets));
  const runDirs = roots.filter((r) => r.required).map((r) => r.real);
  const candidates = [
    ...roots.flatMap((root, i) =>
      perRoot[i]!.sort().map((p) => ({ path: p, required: root.required })),
    ),
    ...(plan.bound ? await boundSockets() : []).map((p) => ({
      path: p,
      required: isUnder(p, runDirs),
    })),
  ];
  const seen = new Set<string>();
  const steps = {
    required: [] as ResolvedStep[],
    bestEffort: [] as ResolvedStep[],
  };
  for (const { path: socket, required } of candidates) {
    if (
      seen.has(socket) ||
      allowed.includes(socket) ||
      isUnder(socket, hiddenDirs)
    )
      continue;
    seen.add(socket);
    steps[required ? 'required' : 'bestEffort'].push({
      kind: 'hide',
      path: socket,
      why: 'Unix socket not allowed by the policy',
      optional: !required,
      isDirectory: false,
    });
  }
  return steps;
}

/**
 * The unlisted sockets on this host, as paths: `required` ones (under
 * /run) must end up hidden, the others are hidden where possible.
 * Sockets inside `hiddenDirs` are skipped: they are hidden already.
 */
export async function socketsToHide(
  plan: SocketPlan,
  hiddenDirs: string[] = [],
): Promise<{ required: string[]; bestEffort: string[] }> {
  const steps = await socketSteps(plan, hiddenDirs);
  const paths = (list: ResolvedStep[]) =>
    list.map((step) => (step as { path: string }).path);
  return {
    required: paths(steps.required),
    bestEffort: paths(steps.bestEffort),
  };
}

/**
 * The concrete view: the planned steps, and every socket to hide. Any
 * socket may vanish before the mount, so the masks never stop the run;
 * the daemon sockets under /run (`mustHide`) are checked afterwards
 * instead: one still reachable stops it.
 */
export interface ResolvedMounts {
  view: ResolvedStep[];
  sockets: ResolvedStep[];
  mustHide: string[];
  /**
   * Paths to keep read-only that do not exist yet, inside a writable
   * path: nothing can be mounted on them, so the command could create
   * them. The run removes what it finds there afterwards.
   */
  absent: string[];
}

/**
 * Turns the plan into concrete steps for this host: drops optional paths
 * that do not exist, picks tmpfs or /dev/null for each hidden path, and
 * finds the sockets to hide. This is the only part that reads the disk.
 */
export async function resolveMounts(plan: MountPlan): Promise<ResolvedMounts> {
  const resolved = await Promise.all(plan.steps.map(resolveStep));
  const writable = plan.steps.flatMap((s) =>
    s.kind === 'writable' ? [s.path] : [],
  );
  const absent = plan.steps.flatMap((s, i) =>
    s.kind === 'read-only' && !resolved[i] && isUnder(s.path, writable)
      ? [s.path]
      : [],
  );
  // A path inside a directory hidden before it is gone from the view (and
  // no longer a place to mount on): its own step is dropped.
  const hiddenDirs: string[] = [];
  const view: ResolvedStep[] = [];
  for (const step of resolved) {
    if (!step) continue;
    if (step.kind === 'hide' && isUnder(step.path, hiddenDirs)) continue;
    if (step.kind === 'hide' && step.isDirectory) hiddenDirs.push(step.path);
    view.push(step);
  }
  const sockets = await socketSteps(plan.sockets, hiddenDirs);
  const required = sockets.required.map(
    (step) => (step as { path: string }).path,
  );
  return {
    view,
    sockets: [...sockets.required, ...sockets.bestEffort],
    mustHide: required,
    absent,
  };
}
