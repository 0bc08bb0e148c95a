/**
 * A lab: the file's root lab (`provium`) or a sub-lab, with its VMs, bridges
 * and sub-labs; it creates, boots, snapshots and restores them and resumes
 * fixtures into itself. Every VM of a file is killed when the file ends,
 * whatever way it ends. Free of Lua: the binding is api/lab.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileServices } from '../binding/registry.js';
import { artifactDir } from './artifacts.js';
import { ClaimingHost } from './claim.js';
import { BridgeHandle, VmHandle } from './handles.js';
import { FileDisks } from './file-disks.js';
import { FileNetwork, moveId, renameState } from './network.js';
import type { SnapshotNetwork } from './lab-network-json.js';
import { resetBetweenTests } from './resets.js';
import { fileSparesStarted } from './fixture-spares.js';
import { discardLabSpare, keepSpareLab, newCopyPrefix, takeLabSpare, type FixtureCopy, type LabSpare } from './lab-spares.js';
import { snapshotLab } from './lab-snapshot.js';
import { shareLease } from './lease.js';
import { traced } from './trace.js';
import { checkKernelFormat } from './kernel-format.js';
import { VmSession, type VmOpts } from './session.js';
import { LabSnapshotHandle, readLabIndex } from './snapshots.js';

/** Names a member cannot take: `lab.<name>` finds these first (the sheet's lookup order). */
const RESERVED = new Set(['vm_fixture', 'lab_fixture', 'pack', 'unpack', 'reset_between_tests', 'timeout']);

/** Below this QEMU starts but no Linux kernel boots: a clear error beats a guest that never answers. */
const MIN_MEMORY = 32 * 1024 * 1024;

/** How a restored VM maps its RAM: a copy it can snapshot again cheaply when it will be snapshotted (fixture builds, reset_between_tests). */
export function restoreMode(services: FileServices): 'private' | 'copy' {
  return services.task.fixture || resetBetweenTests.has(services) ? 'copy' : 'private';
}

/**
 * Starts loading the QEMU driver and the agent client while the main thread
 * finds the fixture (computing keys, on first use): the first resume of a
 * worker needs both (a failed load is reported where the restore imports them).
 */
function preloadDriver(): void {
  import('@provium/qemu').catch(() => {});
  import('@provium/agent').catch(() => {});
}


export class Lab {
  /** The file's root lab (`provium`): every lab of the file is in its tree. */
  readonly root: Lab;
  readonly vms = new Map<string, VmHandle>();
  /** Sub-labs by name (`lab:lab(name)`, a lab fixture's lab). */
  readonly labs = new Map<string, Lab>();
  readonly bridges = new Map<string, BridgeHandle>();
  /** The file's view of the main thread's services, with its claim if it made one. */
  private readonly host: ClaimingHost | undefined;
  /** The file's network (shared by the whole lab tree). */
  readonly network: FileNetwork | undefined;
  /** The file's mediated disks (shared by the whole lab tree). */
  readonly mediator: FileDisks | undefined;
  /** The root's: VMs made by the running test, which end with it (after its bridges). */
  private readonly testVms = new Set<VmHandle>();
  /** The file's claim on the shared pool, given back after its VMs are gone. */
  private claimId: number | undefined;

  constructor(
    readonly services: FileServices,
    parent?: Lab,
    /** Prefix of this lab's VM and bridge ids in the file's network: '' for the root, `pair/` for a sub-lab, `cluster.3/` for a fixture's copy. */
    readonly prefix = '',
    /** A sub-lab's name in its parent (`pair`, `cluster2`); undefined for the root. */
    readonly label?: string,
  ) {
    this.root = parent ? parent.root : this;
    this.host = parent ? parent.host : services.host && new ClaimingHost(services.host, services.task.displayPath, (work) => services.queued(work));
    this.network = parent ? parent.network : this.host && new FileNetwork(this.host, services);
    this.mediator = parent ? parent.mediator : this.host && new FileDisks(this.host, services);
    if (parent) return; // the root lab's file-end cleanup covers its sub-labs
    services.onFileEnd(async () => {
      const keep = services.task.keepOnFailure && services.fileFailed;
      await Promise.all(this.allVms().map((v) => (keep ? v.session.keep() : v.session.kill('file ended'))));
      if (this.claimId !== undefined) await services.host!.release(this.claimId);
    });
    services.onTestFailure((test) => this.keepArtifacts(test));
  }

  /** The console and agent logs of every VM that was started, under .provium/artifacts/<file>/<test>/. */
  private async keepArtifacts(test: string): Promise<Record<string, string>> {
    const started = this.allVms().filter((v) => v.session.console !== undefined);
    if (started.length === 0) return {};
    const dir = artifactDir(this.services, test);
    await mkdir(dir, { recursive: true });
    const kept: Record<string, string> = {};
    for (const v of started) {
      const name = v.session.name;
      kept[`${name} console log`] = path.join(dir, `${name}.console.log`);
      await writeFile(kept[`${name} console log`], v.session.output.read());
      const agentLog = await v.session.agentLog();
      if (agentLog !== undefined) {
        kept[`${name} agent log`] = path.join(dir, `${name}.agent.log`);
        await writeFile(kept[`${name} agent log`], agentLog);
      }
    }
    return kept;
  }

  /** Every VM of the tree: this lab's and its sub-labs'. */
  allVms(): VmHandle[] {
    return [...new Set([...this.vms.values(), ...[...this.labs.values()].flatMap((l) => l.allVms())])];
  }

  /** Throws when `name` is taken by any member of this lab, or reserved. */
  private checkFree(name: string, what: string): void {
    if (RESERVED.has(name)) throw new Error(`${what} "${name}": the name is reserved (lab.${name} is the lab's own); pick another name`);
    const taken = this.vms.has(name) ? 'a VM' : this.bridges.has(name) ? 'a bridge' : this.labs.has(name) ? 'a sub-lab' : undefined;
    if (taken) throw new Error(`${what} "${name}": the lab already has ${taken} named "${name}"; pick another name`);
  }

  /**
   * A member made while a test runs belongs to the test (§16; fixtures too,
   * D30): when the test ends it is closed and leaves every lab of the file,
   * so its name is free again. The scope closes bridges before VMs.
   */
  private inTestScope(member: VmHandle | BridgeHandle | Lab): void {
    const s = this.services;
    if (s.testName === undefined) return;
    const leave = () => new Set([this, ...this.root.allLabs()]).forEach((l) => l.forget(member));
    if (member instanceof VmHandle) {
      this.root.testVms.add(member);
      s.onScopeEnd(async () => {
        leave();
        this.root.testVms.delete(member);
        await (s.task.keepOnFailure && s.testFailed ? member.session.keep() : member.session.kill('test ended'));
      }, 'vm');
    } else if (member instanceof BridgeHandle) {
      s.onScopeEnd(async () => {
        leave();
        if (!this.network?.hasNetwork()) return;
        // The test's VMs end right after its bridges: tidying their guests (link down, addresses
        // removed: a guest command each under TCG) would only hold up the test's end.
        const ending = s.task.keepOnFailure && s.testFailed ? [] : [...this.root.testVms].map((v) => v.session.netId);
        await (await this.network.get()).removeBridge(member.id, ending);
      }, 'bridge');
    } else {
      s.onScopeEnd(leave, 'vm');
    }
  }

  /** Drops `member` from this lab's maps, wherever it is (a name freed at the end of its test). */
  private forget(member: VmHandle | BridgeHandle | Lab): void {
    for (const map of [this.vms, this.bridges, this.labs] as Map<string, unknown>[]) {
      for (const [k, v] of map) if (v === member) map.delete(k);
    }
  }

  /** `lab:lab(name?)`: a new, empty sub-lab. */
  subLab(name: string | undefined): Lab {
    let label = name ?? '__lab_1';
    if (name !== undefined) this.checkFree(name, 'sub-lab');
    else for (let n = 2; this.labs.has(label) || this.vms.has(label) || this.bridges.has(label); n++) label = `__lab_${n}`;
    const sub = new Lab(this.services, this, `${this.prefix}${label}/`, label);
    this.labs.set(label, sub);
    this.inTestScope(sub);
    return sub;
  }

  /** `lab:bridge(name, opts)`: a new bridge on the file's network (its switch runs in the network thread). */
  async createBridge(name: string): Promise<BridgeHandle> {
    this.checkFree(name, 'bridge');
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(name)) throw new Error(`bridge name "${name}" must be a hostname label: letters, digits and inner dashes (VMs resolve <vm>.${name})`);
    const net = await this.requireNetwork().get();
    const id = `${this.prefix}${name}`;
    await net.addBridge(id, { name });
    const b = new BridgeHandle(this, name, id);
    this.bridges.set(name, b);
    this.inTestScope(b);
    return b;
  }

  /** `lab:include(x)`: makes a VM, bridge or lab a member of this lab too (boot, shutdown, pause and resume reach it). */
  include(member: VmHandle | BridgeHandle | Lab): void {
    const name = member instanceof VmHandle ? member.session.name : member instanceof BridgeHandle ? member.name : member.label ?? 'lab';
    if (member === this) throw new Error('lab:include(): a lab cannot include itself');
    if (member instanceof VmHandle) {
      if (this.vms.get(name) === member) return;
      this.checkFree(name, 'VM');
      this.vms.set(name, member);
    } else if (member instanceof BridgeHandle) {
      if (this.bridges.get(name) === member) return;
      this.checkFree(name, 'bridge');
      this.bridges.set(name, member);
    } else {
      if ([...this.labs.values()].includes(member)) return;
      if (member.allLabs().includes(this)) throw new Error('lab:include(): that lab contains this one; including it would make a cycle');
      let label = name;
      for (let n = 2; this.labs.has(label) || this.vms.has(label) || this.bridges.has(label); n++) label = `${name}${n}`;
      this.labs.set(label, member);
    }
  }

  /** `lab:remove(x)`: x stops being a member of this lab (it keeps running); a name is a VM's, else a bridge's, else a sub-lab's. */
  remove(member: VmHandle | BridgeHandle | Lab | string): void {
    if (typeof member === 'string') {
      for (const map of [this.vms, this.bridges, this.labs] as Map<string, unknown>[]) if (map.delete(member)) return;
      return;
    }
    this.forget(member);
  }

  /** The lab's name: a sub-lab's as it was created (a fixture's copy: the fixture's last path part); the root's is its file. */
  name(): string {
    return this.label ?? this.services.task.displayPath;
  }

  /** `lab:members()`: direct members as records, VMs then bridges then sub-labs, each by name. */
  memberRecords(): { kind: 'vm' | 'bridge' | 'lab'; name: string; ref: VmHandle | BridgeHandle | Lab }[] {
    const sorted = <T>(kind: 'vm' | 'bridge' | 'lab', m: Map<string, T>) => [...m.keys()].sort().map((name) => ({ kind, name, ref: m.get(name)! }));
    return [...sorted('vm', this.vms), ...sorted('bridge', this.bridges), ...sorted('lab', this.labs)] as ReturnType<Lab['memberRecords']>;
  }

  /** This lab and every lab below it. */
  allLabs(): Lab[] {
    return [this, ...[...this.labs.values()].flatMap((l) => l.allLabs())];
  }

  requireNetwork(): FileNetwork {
    if (!this.network) throw new Error('no VM host in this run (internal: runLuaFile was called without host services)');
    return this.network;
  }

  create(name: string, profile: string, opts: VmOpts | undefined): VmHandle {
    if (this.labs.has(name) || this.bridges.has(name) || RESERVED.has(name)) this.checkFree(name, 'VM');
    if (this.vms.has(name)) throw new Error(`a VM named "${name}" already exists in this lab; pick another name or look it up with provium:vm("${name}")`);
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(name)) {
      throw new Error(`VM name "${name}" must be a hostname: letters, digits and inner dashes`);
    }
    if (opts?.cpus !== undefined && opts.cpus < 1) throw new Error(`VM "${name}": cpus must be at least 1; got ${opts.cpus}`);
    if (opts?.memory !== undefined && opts.memory < MIN_MEMORY) {
      throw new Error(`VM "${name}": memory ${opts.memory} bytes is too small to boot a Linux guest; give at least "${MIN_MEMORY / 1024 / 1024}M"`);
    }
    checkKernelFormat(name, opts?.kernel_format);
    const host = this.requireHost();
    const s = this.services;
    const session = new VmSession(name, profile, opts ?? {}, {
      host,
      net: this.requireNetwork(),
      mediator: this.mediator!,
      file: s.task.displayPath,
      timeoutScale: s.timeoutScale,
      vmEvent: (e) => s.vmEvent(e),
    }, `${this.prefix}${name}`);
    const vm = new VmHandle(session, this);
    this.vms.set(name, vm);
    this.inTestScope(vm);
    return vm;
  }

  private requireHost(): ClaimingHost {
    if (!this.host) throw new Error('no VM host in this run (internal: runLuaFile was called without host services)');
    return this.host;
  }

  async claim(wants: { memory?: number; cpus?: number }): Promise<void> {
    const host = this.requireHost();
    this.claimId = await host.claim({ memory: wants.memory ?? 0, cpus: wants.cpus ?? 0 });
  }

  /** Boots every created VM on ONE pool acquisition (no hold-and-wait between labs), in parallel. */
  async boot(signal: AbortSignal): Promise<void> {
    const todo = this.allVms().filter((v) => v.session.state === 'created');
    if (todo.length === 0) return;
    const demands = await Promise.all(todo.map((v) => v.session.demand()));
    const total = demands.reduce((t, d) => ({ memory: t.memory + d.memory, cpus: t.cpus + d.cpus }), { memory: 0, cpus: 0 });
    const host = this.requireHost();
    const leaseId = await host.acquire(`lab of ${this.services.task.displayPath} (${todo.map((v) => v.session.name).join(', ')})`, total);
    const shares = shareLease(host, leaseId, todo.length);
    const results = await Promise.allSettled(todo.map((v, i) => v.session.boot({}, signal, shares[i])));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** `lab:snapshot(dir?)`: every started VM of this lab into `dir` (lab-snapshot.ts); `forCache`: a lab fixture build's. */
  snapshot(dir: string, forCache = false): Promise<LabSnapshotHandle> {
    return snapshotLab(this, dir, forCache);
  }

  /**
   * `lab:restore(snap)`: each VM of the snapshot replaces this lab's VM of
   * that name, or joins the lab as a new VM; new ones take their resources in
   * one acquisition. All are restored in parallel. `copy`: this lab is a new
   * copy of a lab fixture, maybe from a spare lab, and keeps spare labs.
   */
  async restore(dir: string, signal: AbortSignal, mode = restoreMode(this.services), copy?: FixtureCopy): Promise<void> {
    const spare = copy?.spare;
    let taken = false; // whether the sessions have the spare's QEMUs (each kills its own on failure)
    try {
      const index = readLabIndex(dir);
      const host = this.requireHost();
      const label = this.name();
      // The switches are made while the main thread unpacks the templates (once per run).
      const [templates] = await Promise.all([
        traced('templates', label, () => Promise.all(index.vms.map((v) => host.snapshotTemplate(path.join(dir, v.file))))),
        index.network && traced('switches', label, () => this.restoreNetwork(index.network!, index.vms.map((v) => v.name), spare)),
      ]);
      const targets = index.vms.map((v) => this.vms.get(v.name) ?? this.create(v.name, v.profile, { memory: v.memory, cpus: v.cpus }));
      const fresh = targets.filter((t) => t.session.state === 'created');
      const shares = new Map<VmHandle, ReturnType<typeof shareLease>[number]>();
      if (fresh.length > 0) {
        const total = fresh.reduce((t, v) => ({ memory: t.memory + (index.vms[targets.indexOf(v)].memory), cpus: t.cpus + index.vms[targets.indexOf(v)].cpus }), { memory: 0, cpus: 0 });
        const leaseId = await traced('acquire', label, () => host.acquire(`restore of ${path.basename(dir)} in ${this.services.task.displayPath}`, total));
        shareLease(host, leaseId, fresh.length).forEach((sh, i) => shares.set(fresh[i], sh));
      }
      taken = true;
      const results = await traced('VMs', label, () =>
        Promise.allSettled(targets.map((t, i) => t.session.restore(templates[i], mode, signal, { lease: shares.get(t), ready: spare?.vms.get(index.vms[i].name), spares: copy === undefined }))),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      // Only an optimization: a lab that gets no spare lab was restored all the same.
      if (copy && mode === 'private') await keepSpareLab(copy, index, templates, host, this.services.timeoutScale).catch(() => {});
    } catch (e) {
      if (!taken) await discardLabSpare(spare);
      throw e;
    }
  }

  /**
   * The network of a lab snapshot: restored in place (same VMs and bridges:
   * the impairments go back to the snapshot's), or re-created on fresh
   * private switches for VMs new to this lab, or taken over from a spare lab.
   * Either way each bridge's graph state becomes the snapshot's.
   */
  private async restoreNetwork({ state, graphs }: SnapshotNetwork, vmNames: string[], spare: LabSpare | undefined): Promise<void> {
    const net = await this.requireNetwork().get();
    const bridgeNames = state.bridges.map((b) => b.id);
    const present = vmNames.filter((n) => this.vms.has(n)).length + bridgeNames.filter((n) => this.bridges.has(n)).length;
    if (present === vmNames.length + bridgeNames.length) {
      // The snapshot's VMs are restored next, with the devices their snapshots name: the uplink is theirs to match.
      const restored = vmNames.map((n) => this.vms.get(n)!.session.netId);
      for (const b of state.bridges) {
        const id = this.bridges.get(b.id)!.id;
        await net.setImpairments(id, renameState({ ...state, bridges: [b] }, '', this.prefix).bridges[0].impairments);
        await net.setUplink(id, b.uplink === true, { except: restored });
      }
    } else {
      if (present > 0) throw new Error('lab:restore(): the lab has some of the snapshot\'s VMs or bridges but not all; restore into a new sub-lab (lab:lab()) or into the lab it was taken from');
      for (const name of vmNames) this.checkFree(name, 'VM');
      if (spare?.net) await net.adopt(spare.net);
      else await net.importState(renameState(state, '', this.prefix));
      for (const b of state.bridges) {
        const handle = new BridgeHandle(this, b.name, `${this.prefix}${b.id}`);
        this.bridges.set(b.id, handle);
        this.inTestScope(handle);
      }
    }
    for (const b of state.bridges) this.bridges.get(b.id)!.graph.load(graphs[b.id], (id) => moveId(id, '', this.prefix));
  }

  /** `lab:vm_fixture(name)`: a VM of this lab resumed from the cached fixture; it keeps its name from the fixture. */
  async vmFixture(name: string, signal: AbortSignal): Promise<VmHandle> {
    const host = this.requireHost();
    preloadDriver();
    const entry = await traced('find fixture', name, () => host.fixture(name, 'vm'));
    const template = await traced('template', name, () => host.snapshotTemplate(entry.path));
    const vmName = String(template.header.vm.name);
    if (this.vms.has(vmName) || this.labs.has(vmName)) {
      throw new Error(`fixture "${name}" brings a VM named "${vmName}", but this lab already has a member of that name; resume it in a sub-lab or rename one`);
    }
    const vm = this.create(vmName, String(template.header.vm.profile), {});
    await fileSparesStarted();
    await vm.session.restore(template, restoreMode(this.services), signal);
    return vm;
  }

  /**
   * `lab:lab_fixture(name)`: a sub-lab resumed from the cached lab fixture
   * (from the worker's spare lab of it when one is ready), named after the
   * fixture's last path part.
   */
  async labFixture(name: string, signal: AbortSignal): Promise<Lab> {
    preloadDriver();
    const entry = await traced('find fixture', name, () => this.requireHost().fixture(name, 'lab'));
    const copyLabel = name.split('/').pop()!;
    let label = copyLabel;
    for (let n = 2; this.labs.has(label) || this.vms.has(label) || this.bridges.has(label); n++) label = `${copyLabel}${n}`;
    const mode = restoreMode(this.services);
    await fileSparesStarted();
    const spare = mode === 'private' ? await traced('take spare lab', name, () => takeLabSpare(entry.path)) : undefined;
    // Network ids never repeat in a file: a test-scoped copy's switches may outlive its test until the file ends.
    const sub = new Lab(this.services, this, spare?.prefix ?? newCopyPrefix(copyLabel), label);
    this.labs.set(label, sub);
    this.inTestScope(sub);
    await sub.restore(entry.path, signal, mode, { key: entry.path, copyLabel, spare });
    return sub;
  }

  lookup(name: string): VmHandle {
    const vm = this.vms.get(name);
    if (!vm) throw new Error(`no VM named "${name}" in this lab${this.vms.size ? ` (VMs: ${[...this.vms.keys()].join(', ')})` : ''}`);
    return vm;
  }
}
