import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One kernel or file-system object a run created, as `flow-sandbox cleanup` needs it. */
export type RecordedObject =
  /** Every lease in the pool that names the run: recorded before the claim. */
  | { kind: 'lease'; poolDir: string; runId: string }
  | { kind: 'netns'; name: string }
  | { kind: 'link'; name: string }
  | { kind: 'nft-table'; family: 'inet'; name: string }
  | { kind: 'iptables'; chain: string; ipv6: boolean; teardown: string }
  | { kind: 'forwarding'; poolDir: string }
  | { kind: 'files'; paths: string[] }
  /** Paths the command was not to create: removed only where they lead where planned. */
  | { kind: 'created'; paths: string[] };

/** The state file: who owns the run and what it holds right now. */
export interface KernelState {
  version: 1;
  engine: 'kernel';
  runId: string;
  pid: number;
  startedAt: string;
  objects: RecordedObject[];
}

export const STATE_FILE = 'kernel.json';

const same = (a: RecordedObject, b: RecordedObject) =>
  JSON.stringify(a) === JSON.stringify(b);

/**
 * The run's record of its objects, rewritten whole on each change. An
 * object is recorded before it is created and dropped once removed, so a
 * run killed at any point leaves a record of everything it may have left.
 * Writes are synchronous and renamed into place: never half a file.
 */
export class RunRecord {
  private readonly state: KernelState;

  constructor(
    readonly file: string,
    runId: string,
  ) {
    this.state = {
      version: 1,
      engine: 'kernel',
      runId,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      objects: [],
    };
    this.write();
  }

  static in(stateDir: string, runId: string): RunRecord {
    return new RunRecord(path.join(stateDir, STATE_FILE), runId);
  }

  add(object: RecordedObject): void {
    this.state.objects.push(object);
    this.write();
  }

  remove(object: RecordedObject): void {
    this.state.objects = this.state.objects.filter((o) => !same(o, object));
    this.write();
  }

  /** What is still recorded (teardown failures leave objects here). */
  objects(): readonly RecordedObject[] {
    return this.state.objects;
  }

  /** Removes the file once nothing is left to clean up. */
  discard(): void {
    if (this.state.objects.length === 0) rmSync(this.file, { force: true });
  }

  private write(): void {
    const temp = `${this.file}.tmp`;
    writeFileSync(temp, `${JSON.stringify(this.state, null, 2)}\n`, {
      mode: 0o600,
    });
    renameSync(temp, this.file);
  }
}
