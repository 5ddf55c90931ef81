import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createCommandRunner,
  type CommandRunner,
} from '../../src/exec/runner.js';
import { UndoStack } from '../../src/exec/undo.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { makeRepo, netPaths, writeNetFiles, type NetPaths } from './files.js';
import { netExec, type NetExecOptions, type NetExecResult } from './exec.js';
import type { HostEvent } from './listeners.js';
import {
  allNamespaces,
  applyNetwork,
  netNames,
  networkPlan,
  type NetNames,
} from './netns.js';
import {
  eventLogOf,
  startServers,
  stopServer,
  type ServerHandle,
} from './servers.js';
import { ownedDifferences, takeSnapshot, type Snapshot } from './snapshot.js';
import { RUNNER } from './topology.js';

/** What `cli.js down ID` needs to tear down a network another process made. */
interface StateFile {
  id: string;
  servers: ServerHandle[];
}

export interface CreateOptions {
  /** 4 hex characters; random by default. */
  id?: string;
  /** Servers outlive this process (for `cli.js up`). */
  keepAlive?: boolean;
  log?: Logger;
}

const quietLog = () => createLogger({ level: 'warn', format: 'text' });

/** A private test internet of network namespaces; see DESIGN.md "Test topology". */
export class Testnet {
  readonly names: NetNames;
  readonly paths: NetPaths;
  readonly runnerNs: string;
  private readonly exec_: CommandRunner = createCommandRunner();

  private constructor(
    readonly id: string,
    private readonly log: Logger,
  ) {
    this.names = netNames(id);
    this.paths = netPaths(id);
    this.runnerNs = this.names.ns(RUNNER.key);
  }

  /** Builds the network; on any failure removes what it made, then throws. */
  static async create(options: CreateOptions = {}): Promise<Testnet> {
    const id = options.id ?? randomBytes(2).toString('hex');
    if (!/^[0-9a-f]{4}$/.test(id))
      throw new Error(
        `testnet id: ${JSON.stringify(id)} is not accepted; expected 4 hex characters`,
      );
    const net = new Testnet(id, options.log ?? quietLog());
    if (
      existsSync(net.paths.base) ||
      existsSync(`/run/netns/${net.names.switchNs}`)
    ) {
      throw new Error(
        `testnet ${id} already exists; run \`node dist/scripts/testnet/cli.js down ${id}\``,
      );
    }
    const undo = new UndoStack();
    undo.push(`remove ${net.paths.base}`, () => net.removeFiles());
    try {
      await net.build(undo, options.keepAlive ?? false);
      return net;
    } catch (error) {
      // Only what this call made: a clashing namespace is someone else's.
      await undo.unwind(net.log);
      throw error;
    }
  }

  /** A handle on a network another process built (e.g. `cli.js up`). */
  static attach(id: string, log: Logger = quietLog()): Testnet {
    return new Testnet(id, log);
  }

  private async build(undo: UndoStack, keepAlive: boolean): Promise<void> {
    const paths = await writeNetFiles(this.id);
    await makeRepo(this.exec_, {
      dir: path.join(paths.www, 'gl'),
      label: 'gitlab',
    });
    await makeRepo(this.exec_, {
      dir: path.join(paths.www, 'out'),
      label: 'outside',
    });
    const state: StateFile = { id: this.id, servers: [] };
    await this.saveState(state);

    await applyNetwork(this.exec_, undo, networkPlan(this.names));
    await startServers({
      names: this.names,
      paths,
      keepAlive,
      onStarted: (handle) => {
        state.servers.push(handle);
        undo.push(`stop server ${handle.key}`, () => stopServer(handle));
      },
    });
    await this.saveState(state);
  }

  private async saveState(state: StateFile): Promise<void> {
    await writeFile(this.paths.state, JSON.stringify(state, null, 2));
  }

  private async removeFiles(): Promise<void> {
    // Only ever the directory derived from our own id.
    if (/^\/var\/tmp\/fsbxt[0-9a-f]{4}$/.test(this.paths.base)) {
      await rm(this.paths.base, { recursive: true, force: true });
    }
  }

  /** Runs argv in the runner namespace, with the test resolv.conf, hosts, /tmp and fake HOME. */
  exec(
    argv: readonly string[],
    options?: NetExecOptions,
  ): Promise<NetExecResult> {
    return netExec(this.runnerNs, this.paths, argv, options);
  }

  /** Events one test host logged (key: dns, gl, out, dock). */
  async events(key: string): Promise<HostEvent[]> {
    const text = await readFile(eventLogOf(this.paths, key), 'utf8').catch(
      () => '',
    );
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as HostEvent);
  }

  /** Every name the test zone's DNS server was asked, in order. */
  async dnsQueries(): Promise<string[]> {
    const events = await this.events('dns');
    return events.filter((e) => e.kind === 'dns').map((e) => e.name ?? '');
  }

  /** Kernel state for before/after comparisons. */
  snapshot(): Promise<Snapshot> {
    return takeSnapshot(this.exec_, this.runnerNs);
  }

  /** What changed between two snapshots that a run in this network caused. */
  differences(before: Snapshot, after: Snapshot): Promise<string[]> {
    return ownedDifferences(this.exec_, this.runnerNs, before, after);
  }

  /** Removes everything: servers, namespaces, files. Safe to call twice. */
  destroy(): Promise<string[]> {
    return Testnet.destroyById(this.id, this.log);
  }

  /** Tears down a network by id alone (another process may have made it). */
  static async destroyById(
    id: string,
    log: Logger = quietLog(),
  ): Promise<string[]> {
    const net = new Testnet(id, log);
    const undo = new UndoStack();
    undo.push(`remove ${net.paths.base}`, () => net.removeFiles());
    for (const ns of allNamespaces(net.names)) {
      undo.push(`delete ${ns}`, async () => {
        if (existsSync(`/run/netns/${ns}`))
          await net.exec_.run(['ip', 'netns', 'del', ns]);
      });
    }
    const state = await readFile(net.paths.state, 'utf8').catch(
      () => undefined,
    );
    const servers = state ? (JSON.parse(state) as StateFile).servers : [];
    for (const handle of servers) {
      undo.push(`stop server ${handle.key}`, () => stopServer(handle));
    }
    // First of all: what sandbox runs killed in this network left (their
    // namespaces are global), removed the way an operator would.
    undo.push('flow-sandbox cleanup of killed runs', async () => {
      if (!existsSync(`/run/netns/${net.runnerNs}`)) return;
      const bin = fileURLToPath(
        new URL('../../../bin/flow-sandbox', import.meta.url),
      );
      await net.exec_.run(
        ['ip', 'netns', 'exec', net.runnerNs, bin, 'cleanup'],
        {
          env: {
            ...process.env,
            FLOW_SANDBOX_STATE_DIR: path.join(net.paths.base, 'state'),
            FLOW_SANDBOX_LOG_LEVEL: 'error',
          } as Record<string, string>,
        },
      );
    });
    return undo.unwind(log);
  }
}
