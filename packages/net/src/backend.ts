/**
 * The switches a LabNetwork drives, behind one asynchronous interface: in
 * this thread (LocalBackend) or in the network thread (RemoteBackend, see
 * service.ts). Either way each switch is private to the backend that made it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CaptureSink } from './capture.js';
import { createNetDir } from './dirs.js';
import type { SwitchPolicy } from './impairments.js';
import { Switch, type PortCounters } from './switch.js';

/** A capture started in a switch (the bytes go to its sink). */
export interface CaptureControl {
  /** The reader consumed `bytes` (0: just asking); resolves with the frames the capture has dropped so far. */
  ack(bytes: number): Promise<number>;
  /** Ends it (the sink's end() is called, after the last bytes). */
  stop(): Promise<void>;
}

export interface SwitchHandle {
  readonly id: string;
  /** Listens for the NIC's QEMU; resolves with the socket path for `-netdev stream`. */
  addPort(port: string, mac?: string): Promise<string>;
  removePort(port: string): Promise<void>;
  setPolicy(policy: SwitchPolicy): Promise<void>;
  counters(port: string): Promise<PortCounters>;
  /** Starts a packet capture of the whole switch, or of one port (capture.ts). */
  capture(port: string | undefined, sink: CaptureSink): Promise<CaptureControl>;
  close(): Promise<void>;
}

export interface SwitchBackend {
  createSwitch(opts: { name: string; seed?: number }): Promise<SwitchHandle>;
  /** Closes every switch this backend made (and its socket directory). */
  close(): Promise<void>;
}

/** Switches running in the calling thread: for tests and tools. A runner should use the network thread. */
export class LocalBackend implements SwitchBackend {
  private readonly dir: string;
  private readonly switches = new Map<string, Switch>();
  private next = 1;
  private nextCapture = 1;
  private closed = false;

  constructor(opts: { root?: string } = {}) {
    this.dir = createNetDir(opts.root);
  }

  /** The backend's socket directory. */
  get socketDir(): string {
    return this.dir;
  }

  async createSwitch(opts: { name: string; seed?: number }): Promise<SwitchHandle> {
    if (this.closed) throw new Error('network backend closed');
    const id = `s${this.next++}`;
    const sw = new Switch({ dir: join(this.dir, id), name: `bridge "${opts.name}"`, seed: opts.seed });
    this.switches.set(id, sw);
    return {
      id,
      addPort: async (port, mac) => sw.addPort(port, mac),
      removePort: (port) => sw.removePort(port),
      setPolicy: async (p) => sw.setPolicy(p),
      counters: async (port) => sw.counters(port),
      capture: async (port, sink) => {
        const cid = this.nextCapture++;
        sw.startCapture(cid, port, sink);
        return { ack: async (bytes) => sw.ackCapture(cid, bytes), stop: async () => sw.stopCapture(cid) };
      },
      close: async () => {
        this.switches.delete(id);
        await sw.close();
      },
    };
  }

  /** The switch objects themselves (tests). */
  switch(id: string): Switch | undefined {
    return this.switches.get(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.switches.values()].map((s) => s.close()));
    this.switches.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
