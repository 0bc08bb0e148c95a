/**
 * HostServices in a worker: each call is a `host_call` message on the task's
 * port, answered by a `host_reply` with the same id from the main thread.
 */
import type { MessagePort } from 'node:worker_threads';
import type { FixtureEntry, HostCall, HostMessage, HostServices, PreparedProfile, Resources, SnapshotTemplateInfo } from '@provium/types';

export class PortHost implements HostServices {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly onMessage = (m: HostMessage) => {
    if (m?.kind !== 'host_reply') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.error));
  };

  constructor(private readonly port: MessagePort) {
    port.on('message', this.onMessage);
  }

  /** Stops listening (the task is over); calls still pending fail. */
  detach(): void {
    this.port.off('message', this.onMessage);
    for (const p of this.pending.values()) p.reject(new Error('the file ended while waiting for the main thread'));
    this.pending.clear();
  }

  private call<T>(call: HostCall, transfer: Transferable[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.postMessage({ kind: 'host_call', id, call }, transfer as never);
    });
  }

  prepareProfile(name: string): Promise<PreparedProfile> {
    return this.call({ method: 'prepareProfile', args: [name] });
  }
  acquire(owner: string, wants: Resources): Promise<number> {
    return this.call({ method: 'acquire', args: [owner, wants] });
  }
  release(leaseId: number): Promise<void> {
    return this.call({ method: 'release', args: [leaseId] });
  }
  qemuStarted(info: { pid: number; runDir: string; vm: string }): Promise<void> {
    return this.call({ method: 'qemuStarted', args: [info] });
  }
  qemuEnded(pid: number): Promise<void> {
    return this.call({ method: 'qemuEnded', args: [pid] });
  }
  snapshotTemplate(path: string): Promise<SnapshotTemplateInfo> {
    return this.call({ method: 'snapshotTemplate', args: [path] });
  }
  fixture(name: string, kind: 'vm' | 'lab'): Promise<FixtureEntry> {
    return this.call({ method: 'fixture', args: [name, kind] });
  }
  cachedFixtures(file: string): Promise<FixtureEntry[]> {
    return this.call({ method: 'cachedFixtures', args: [file] });
  }
  netConnect(port: MessagePort): Promise<void> {
    return this.call({ method: 'netConnect', args: [port] }, [port]);
  }

  diskConnect(port: MessagePort): Promise<void> {
    return this.call({ method: 'diskConnect', args: [port] }, [port]);
  }
}
