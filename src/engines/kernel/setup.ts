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
import { SOCKETS_TAB, VIEW_FSTAB } from '../../mounts/launch.js';
import { resolveMounts } from '../../mounts/resolve.js';
import { createNetns, removeNetns } from '../../netns/apply.js';
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

/** The namespace and veth pair, with their undo. */
export async function setUpNetwork(
  exec: CommandRunner,
  plan: KernelPlan,
  undo: UndoStack,
  record: RunRecord,
): Promise<void> {
  const { netns } = plan;
  const objects: RecordedObject[] = [
    { kind: 'netns', name: netns.netns },
    { kind: 'link', name: netns.hostIf },
  ];
  track(undo, record, objects, `remove namespace ${netns.netns}`, () =>
    removeNetns(exec, netns),
  );
  await createNetns(exec, netns);
}

/** The run's firewall rules, with their undo. */
export async function setUpFirewall(
  exec: CommandRunner,
  plan: KernelPlan,
  undo: UndoStack,
  record: RunRecord,
): Promise<void> {
  const fw = plan.firewall;
  const object: RecordedObject =
    fw.backend === 'nft'
      ? { kind: 'nft-table', family: 'inet', name: fw.table }
      : {
          kind: 'iptables',
          chain: fw.chain,
          ipv6: fw.ipv6,
          teardown: renderIptablesTeardown({ names: plan.names }),
        };
  track(
    undo,
    record,
    [object],
    `remove ${fw.backend} rules of ${fw.table}`,
    () => removeFirewall(exec, fw),
  );
  await loadFirewall(exec, fw);
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
 * resolv.conf and the planned fstab. The init script writes the read-only
 * list next to it at launch.
 */
export async function prepareView(
  plan: KernelPlan,
  resolv: ResolvConf,
  undo: UndoStack,
  record: RunRecord,
): Promise<void> {
  const { mounts, dns } = plan;
  const files = [dns.sandboxResolvConf, mounts.fstabDir];
  track(
    undo,
    record,
    [{ kind: 'files', paths: files }],
    'remove the view files',
    async () => {
      await Promise.all(
        files.map((file) => rm(file, { recursive: true, force: true })),
      );
    },
  );
  await mkdir(mounts.fstabDir, { recursive: true, mode: 0o700 });
  const { view, sockets } = await resolveMounts(mounts);
  await Promise.all([
    writeFile(
      dns.sandboxResolvConf,
      renderSandboxResolvConf(dns.listen[0]!, resolv),
      { mode: 0o644 },
    ),
    writeFile(
      path.join(mounts.fstabDir, VIEW_FSTAB),
      renderFstab(view.flatMap(stepEntries)),
      { mode: 0o600 },
    ),
    writeFile(
      path.join(mounts.fstabDir, SOCKETS_TAB),
      renderFstab(sockets.flatMap(stepEntries)),
      { mode: 0o600 },
    ),
  ]);
}
