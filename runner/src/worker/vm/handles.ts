/**
 * The objects behind the Lua API's VM-side classes that are thin views of a
 * session or a lab: a VM, a bridge, a NIC, an open guest file, a console and
 * a clock. Free of Lua: their bindings are in api/.
 */
import type { AgentFile } from '@provium/agent';
import type { Lab } from './lab.js';
import type { VmSession } from './session.js';
import { BridgeGraph } from './bridge-graph.js';

export class VmHandle {
  constructor(
    readonly session: VmSession,
    /** The lab that created it (its network and bridges). */
    readonly lab: Lab,
  ) {}
}

/** A bridge of a lab: a switch in the network thread; VMs are known to it by their ids in the file. */
export class BridgeHandle {
  /** Names that are no VM of the lab, given to its ops, and routes (graph state only). */
  readonly graph = new BridgeGraph();
  /** Its captures not closed yet, and where each was opened (`lab:snapshot()` refuses while any is). */
  readonly openCaptures = new Map<object, string>();

  constructor(
    readonly lab: Lab,
    readonly name: string,
    readonly id: string,
  ) {}

  net() {
    return this.lab.requireNetwork().get();
  }

  /** `bridge:attach(vms)`: a NIC per VM (at launch if not booted yet, hot-plugged if running). */
  async attach(vms: VmHandle[]): Promise<void> {
    for (const v of vms) {
      if (v.session.state === 'paused') throw new Error(`bridge "${this.name}": ${v.session.label} is paused: resume it before attaching it (its guest configures the NIC)`);
      if (v.session.state === 'shutdown') throw new Error(`bridge "${this.name}": ${v.session.label} is shut down`);
    }
    const net = await this.net();
    for (const v of vms) net.addVm(v.session.netId, { name: v.session.name });
    await net.attach(this.id, vms.map((v) => v.session.netId));
  }
}

/** `vm:nic(bridge)`: one VM's interface on one bridge. */
export class NicHandle {
  constructor(
    readonly vm: VmHandle,
    readonly bridge: BridgeHandle,
  ) {}
}

/** `bridge:nic(name)` for a graph-only member: no device; disconnect/reconnect take the name out and back in. */
export class GraphNicHandle {
  constructor(
    readonly name: string,
    readonly bridge: BridgeHandle,
  ) {}
}

/** An open guest file; closed at the end of the test that opened it (of the file, when top-level code did) if not before. */
export class FileHandle {
  closed = false;
  constructor(
    readonly vm: VmHandle,
    readonly path: string,
    readonly file: AgentFile,
  ) {}

  use(): AgentFile {
    if (this.closed) throw new Error(`${this.vm.session.label}: file ${this.path} is closed`);
    this.vm.session.agentFor();
    return this.file;
  }

  /** Closes it at the end of its scope: never raises (the VM may be gone). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.vm.session.openFiles.delete(this);
    if (this.vm.session.state === 'booted') await this.file.close().catch(() => {});
  }
}

/** `vm:console()`. */
export class ConsoleHandle {
  constructor(readonly vm: VmHandle) {}
}

/** `vm:clock()`. */
export class ClockHandle {
  constructor(readonly vm: VmHandle) {}
}

/** `vm:disk(id)`, `vm:attach_disk()`: a VM's disk by id (it may be made only at boot). */
export class DiskRef {
  constructor(
    readonly vm: VmHandle,
    readonly id: string,
  ) {}

  get disk() {
    return this.vm.session.disks.get(this.id);
  }
}
