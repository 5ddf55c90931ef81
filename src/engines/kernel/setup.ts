import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandRunner } from '../../exec/runner.js';
import type { UndoStack } from '../../exec/undo.js';
import { loadFirewall, removeFirewall } from '../../firewall/apply.js';
import { renderIptablesTeardown } from '../../firewall/iptables.js';
import {
  parseHosts,
  parseResolvConf,
  renderSandboxResolvConf,
  type HostsTable,
  type ResolvConf,
} from '../../dns/hostfiles.js';
import { renderFstab, stepEntries } from '../../mounts/fstab.js';
import { SOCKETS_CHECK, SOCKETS_TAB, VIEW_FSTAB } from '../../mounts/launch.js';
import { prepareDevStaging } from '../../mounts/dev.js';
import { removeCreated } from '../../mounts/created.js';
import { resolveMounts } from '../../mounts/resolve.js';
import { createNetns, removeNetns } from '../../netns/apply.js';
import type { StepReached } from '../steps.js';
import type { KernelOptions } from './options.js';
import type { KernelPlan } from './plan.js';
import type { RecordedObject, RunRecord } from './state.js';

/** Registers objects: recorded before they exist, forgotten once their undo ran. */
export function track(
  undo: UndoStack,
  record: RunRecord,
  objects: RecordedObject[],
  label: string,
  remove: () => Promise<void>,
): void {
  for (const object of objects) record.add(object);
  undo.push(label, async () => {
    await remove();
    for (const object of objects) record.remove(object);
  });
}

/** The runner's DNS settings and hosts file, read once per run. */
export async function readHostFiles(
  options: KernelOptions,
): Promise<{ resolv: ResolvConf; hosts: HostsTable }> {
  const [resolvText, hostsText] = await Promise.all([
    readFile(options.resolvConf, 'utf8').catch(() => ''),
    readFile(options.hostsFile, 'utf8').catch(() => ''),
  ]);
  return { resolv: parseResolvConf(resolvText), hosts: parseHosts(hostsText) };
}

/**
 * Writes the files the sandbox's view needs into the state directory: its
 * resolv.conf and the planned fstab (the init script adds the read-only
 * list at launch), and the socket masks.
 */
async function prepareView(
  plan: KernelPlan,
  resolv: ResolvConf,
): Promise<string[]> {
  const { mounts, dns } = plan;
  await mkdir(mounts.fstabDir, { recursive: true, mode: 0o700 });
  const { view, sockets, mustHide, absent } = await resolveMounts(mounts);
  for (const step of view) {
    if (step.kind === 'dev') await prepareDevStaging(step.staging, step.nodes);
  }
  const write = (file: string, text: string, mode = 0o600) =>
    writeFile(file, text, { mode });
  await Promise.all([
    write(
      dns.sandboxResolvConf,
      renderSandboxResolvConf(dns.listen[0]!, resolv),
      0o644,
    ),
    write(
      path.join(mounts.fstabDir, VIEW_FSTAB),
      renderFstab(view.flatMap(stepEntries)),
    ),
    write(
      path.join(mounts.fstabDir, SOCKETS_TAB),
      renderFstab(sockets.flatMap(stepEntries)),
    ),
    // One path a line: a name with a newline cannot be checked by the
    // script, so it is left out (its mask is still mounted).
    write(
      path.join(mounts.fstabDir, SOCKETS_CHECK),
      mustHide
        .filter((p) => !p.includes('\n'))
        .map((p) => `${p}\n`)
        .join(''),
    ),
  ]);
  return absent;
}

/**
 * Protected paths that did not exist when the run started cannot be
 * mounted read-only: what the command creates there is removed once it
 * has ended (see removeCreated). Recorded first, so a killed run's are
 * removed by the cleanup too.
 */
function removeCreatedLater(
  undo: UndoStack,
  record: RunRecord,
  absent: string[],
  report: (result: { removed: string[]; redirected: string[] }) => void,
): void {
  if (absent.length === 0) return;
  track(
    undo,
    record,
    [{ kind: 'created', paths: absent }],
    'remove protected paths the command created',
    async () => {
      const result = await removeCreated(absent);
      if (result.removed.length || result.redirected.length) report(result);
    },
  );
}

function firewallObject(plan: KernelPlan): RecordedObject {
  const fw = plan.firewall;
  return fw.backend === 'nft'
    ? { kind: 'nft-table', family: 'inet', name: fw.table }
    : {
        kind: 'iptables',
        chain: fw.chain,
        ipv6: fw.ipv6,
        teardown: renderIptablesTeardown({ names: plan.names }),
      };
}

// Runs independent steps side by side; each finishes (or fails) before the
// first failure is thrown, and each step's time goes to the debug log.
async function sideBySide(
  steps: Record<string, () => Promise<unknown>>,
): Promise<Record<string, number>> {
  const times: Record<string, number> = {};
  const results = await Promise.allSettled(
    Object.entries(steps).map(async ([name, step]) => {
      const started = performance.now();
      await step();
      times[name] = Math.round(performance.now() - started);
    }),
  );
  const failures = results.flatMap((r) =>
    r.status === 'rejected' ? [r.reason as unknown] : [],
  );
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1)
    throw new AggregateError(failures, failures.map(String).join('; '));
  return times;
}

/**
 * Creates the namespace and veth pair, loads the firewall and writes the
 * view files, side by side; one undo removes them again side by side. The
 * objects are recorded before any of them exists. Returns each step's time.
 */
export async function buildSandbox(options: {
  exec: CommandRunner;
  plan: KernelPlan;
  resolv: ResolvConf;
  undo: UndoStack;
  record: RunRecord;
  step: StepReached;
  extra: Record<string, () => Promise<unknown>>;
  /** Told which protected paths the command created, and which were removed. */
  created: (result: { removed: string[]; redirected: string[] }) => void;
}): Promise<Record<string, number>> {
  const { exec, plan, resolv, undo, record, step, extra } = options;
  const files = [
    plan.dns.sandboxResolvConf,
    plan.mounts.fstabDir,
    ...plan.mounts.steps.flatMap((s) => (s.kind === 'dev' ? [s.staging] : [])),
  ];
  const objects: RecordedObject[] = [
    { kind: 'netns', name: plan.netns.netns },
    { kind: 'link', name: plan.netns.hostIf },
    firewallObject(plan),
    { kind: 'files', paths: files },
  ];
  // Once the command has ended nothing runs in the sandbox any more, so
  // the pieces can go in any order: together is fastest.
  track(
    undo,
    record,
    objects,
    'remove the namespace, firewall and view files',
    () =>
      sideBySide({
        firewall: () => removeFirewall(exec, plan.firewall),
        network: () => removeNetns(exec, plan.netns),
        files: () =>
          Promise.all(
            files.map((f) => rm(f, { recursive: true, force: true })),
          ),
      }).then(() => undefined),
  );
  return sideBySide({
    network: () =>
      createNetns(exec, plan.netns).then(() => step('kernel-netns')),
    firewall: () =>
      loadFirewall(exec, plan.firewall).then(() => step('kernel-firewall')),
    view: () =>
      prepareView(plan, resolv).then((absent) => {
        removeCreatedLater(undo, record, absent, options.created);
        step('kernel-view');
      }),
    ...extra,
  });
}
