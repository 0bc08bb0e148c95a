/**
 * The VM part of the Lua API: `provium` as a Lab that creates and boots VMs,
 * the VM itself, RunResult, Console and Clock. Every VM of a file is killed
 * when the file ends, whatever way it ends.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentFile } from '@provium/agent';
import { defaultRegistry, type BindingRegistry, type CallContext, type FileServices } from '../binding/registry.js';
import { bytesToText } from '../lua/values.js';
import { ClaimingHost } from './claim.js';
import { luaFind } from './lua-find.js';
import { ProcessHandle } from './process.js';
import { RunResult } from './results.js';
import { Stream } from './stream.js';
import { VmSession, shareLease, type BootOpts, type VmOpts } from './session.js';
import { LabSnapshotHandle, SnapshotHandle, freshTempPath, readLabIndex, writeLabIndex, type LabIndex } from './snapshots.js';
import { FileNetwork, renameState } from './network.js';
import type { NetworkState } from '@provium/net';

const CONSOLE_EXPECT_S = 30;
/** Below this QEMU starts but no Linux kernel boots: a clear error beats a guest that never answers. */
const MIN_MEMORY = 32 * 1024 * 1024;
const STREAM_WAIT_S = 10;

/** A stream opened by a test is closed when that test ends (the file, in top-level code). */
function opened(s: Stream, call: CallContext, session: VmSession): Stream {
  call.services.onScopeEnd(() => s.close());
  const where = call.where ? `${call.where.file}:${call.where.line}` : 'an unknown line';
  session.openStreams.set(s, `${s.label} (opened at ${where})`);
  s.onClose = () => session.openStreams.delete(s);
  return s;
}

/** How a restored VM maps its RAM: a copy it can snapshot again cheaply when it will be snapshotted (fixture builds, reset_between_tests). */
function restoreMode(services: FileServices): 'private' | 'copy' {
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

/** Lab fixture copies resumed by this worker: numbers their network ids. */
let labCopies = 0;

/** Files whose top-level code set `provium.reset_between_tests = true`. */
const resetBetweenTests = new WeakSet<FileServices>();

/**
 * `provium.reset_between_tests = true`: the lab is snapshotted after the
 * top-level code and restored before every test after the first. Restores
 * map the snapshot privately: they are never snapshotted again.
 */
function setUpResets(lab: Lab, services: FileServices): void {
  if (!resetBetweenTests.has(services)) return services.setFileHooks(undefined);
  let snap: LabSnapshotHandle | undefined;
  services.setFileHooks({
    afterTopLevel: async () => {
      if (lab.allVms().some((v) => v.session.state === 'booted' || v.session.state === 'paused')) snap = await lab.snapshot(freshTempPath(services, 'reset', ''));
    },
    beforeTest: async (index) => {
      if (index > 0 && snap) await lab.restore(snap.dir, new AbortController().signal, 'private');
    },
  });
}

/**
 * A fixture resumed inside a test lives as long as the test: its VMs are
 * killed and leave the lab when the test ends, so every test can resume the
 * same fixture afresh. In top-level code it lives as long as the file.
 */
function testScoped(lab: Lab, member: string, call: CallContext): void {
  if (call.services.testName === undefined) return;
  call.services.onScopeEnd(async () => {
    const vm = lab.vms.get(member);
    const sub = lab.labs.get(member);
    lab.vms.delete(member);
    lab.labs.delete(member);
    await Promise.all([...(vm ? [vm] : []), ...(sub ? sub.allVms() : [])].map((v) => v.session.kill('test ended')));
  });
}

function snapshotPathArg(given: unknown, what: string): string | undefined {
  if (given === undefined) return undefined;
  const p = path.resolve(given as string);
  if (!existsSync(path.dirname(p))) throw new Error(`${what}: directory ${path.dirname(p)} does not exist; create it first`);
  return p;
}

function snapshotFileOf(snap: unknown): string {
  return snap instanceof SnapshotHandle ? snap.file : path.resolve(snap as string);
}

type RunOpts = { args?: string[]; env?: Record<string, string>; cwd?: string; stdin?: Uint8Array; timeout?: number };
const commandOf = (cmd: string, o: RunOpts) => (o.args ? [cmd, ...o.args] : cmd);
const commandText = (cmd: string, o: RunOpts) => (o.args ? [cmd, ...o.args].join(' ') : cmd);

export class Lab {
  readonly vms = new Map<string, VmHandle>();
  /** Sub-labs by name (`lab:lab(name)`, a lab fixture's lab). */
  readonly labs = new Map<string, Lab>();
  readonly bridges = new Map<string, BridgeHandle>();
  /** The file's view of the main thread's services, with its claim if it made one. */
  private readonly host: ClaimingHost | undefined;
  /** The file's network (shared by the whole lab tree). */
  readonly network: FileNetwork | undefined;
  /** The file's claim on the shared pool, given back after its VMs are gone. */
  private claimId: number | undefined;

  constructor(
    readonly services: FileServices,
    parent?: Lab,
    /** Prefix of this lab's VM and bridge ids in the file's network: '' for the root, `pair/` for a sub-lab. */
    readonly prefix = '',
  ) {
    this.host = parent ? parent.host : services.host && new ClaimingHost(services.host, services.task.displayPath);
    this.network = parent ? parent.network : this.host && new FileNetwork(this.host, services);
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
    const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');
    const dir = path.resolve('.provium', 'artifacts', slug(this.services.task.displayPath), slug(test));
    await mkdir(dir, { recursive: true });
    const kept: Record<string, string> = {};
    for (const v of started) {
      const name = v.session.name;
      kept[`${name} console log`] = path.join(dir, `${name}.console.log`);
      await writeFile(kept[`${name} console log`], v.session.consoleLog());
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

  /** Throws when `name` is taken by any member of this lab. */
  private checkFree(name: string, what: string): void {
    const taken = this.vms.has(name) ? 'a VM' : this.bridges.has(name) ? 'a bridge' : this.labs.has(name) ? 'a sub-lab' : undefined;
    if (taken) throw new Error(`${what} "${name}": the lab already has ${taken} named "${name}"; pick another name`);
  }

  /** `lab:lab(name?)`: a new, empty sub-lab. */
  subLab(name: string | undefined): Lab {
    let label = name ?? 'lab';
    if (name !== undefined) this.checkFree(name, 'sub-lab');
    else for (let n = 2; this.labs.has(label) || this.vms.has(label) || this.bridges.has(label); n++) label = `lab${n}`;
    const sub = new Lab(this.services, this, `${this.prefix}${label}/`);
    this.labs.set(label, sub);
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
    return b;
  }

  /** `lab:include(x)`: makes a VM, bridge or lab a member of this lab too (boot, shutdown, pause and resume reach it). */
  include(member: VmHandle | BridgeHandle | Lab): void {
    const name = member instanceof VmHandle ? member.session.name : member instanceof BridgeHandle ? member.name : [...(member.parentLabels() ?? [])][0] ?? 'lab';
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

  /** `lab:remove(x)`: x stops being a member of this lab (it keeps running). */
  remove(member: VmHandle | BridgeHandle | Lab): void {
    for (const map of [this.vms, this.bridges, this.labs] as Map<string, unknown>[]) {
      for (const [k, v] of map) if (v === member) map.delete(k);
    }
  }

  /** This lab and every lab below it. */
  allLabs(): Lab[] {
    return [this, ...[...this.labs.values()].flatMap((l) => l.allLabs())];
  }

  /** The prefix's last label: the name this lab was created under. */
  parentLabels(): string[] {
    const parts = this.prefix.split('/').filter(Boolean);
    return parts.length ? [parts[parts.length - 1]] : [];
  }

  requireNetwork(): FileNetwork {
    if (!this.network) throw new Error('no VM host in this run (internal: runLuaFile was called without host services)');
    return this.network;
  }

  /** Every member of the tree, for shutdown/pause/resume. */
  members(): (VmHandle | BridgeHandle | Lab)[] {
    return [...this.vms.values(), ...this.bridges.values(), ...this.labs.values()];
  }

  create(name: string, profile: string, opts: VmOpts | undefined): VmHandle {
    if (this.labs.has(name) || this.bridges.has(name)) this.checkFree(name, 'VM');
    if (this.vms.has(name)) throw new Error(`a VM named "${name}" already exists in this lab; pick another name or look it up with provium:vm("${name}")`);
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(name)) {
      throw new Error(`VM name "${name}" must be a hostname: letters, digits and inner dashes`);
    }
    if (opts?.cpus !== undefined && opts.cpus < 1) throw new Error(`VM "${name}": cpus must be at least 1; got ${opts.cpus}`);
    if (opts?.memory !== undefined && opts.memory < MIN_MEMORY) {
      throw new Error(`VM "${name}": memory ${opts.memory} bytes is too small to boot a Linux guest; give at least "${MIN_MEMORY / 1024 / 1024}M"`);
    }
    const host = this.requireHost();
    const s = this.services;
    const session = new VmSession(name, profile, opts ?? {}, {
      host,
      net: this.requireNetwork(),
      file: s.task.displayPath,
      timeoutScale: s.timeoutScale,
      vmEvent: (e) => s.vmEvent(e),
    }, `${this.prefix}${name}`);
    const vm = new VmHandle(session, this);
    this.vms.set(name, vm);
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

  /** `lab:snapshot(dir?)`: every started VM of this lab into `dir` (atomically: written beside it, then renamed). */
  async snapshot(dir: string): Promise<LabSnapshotHandle> {
    const vms = [...this.vms.values()].filter((v) => v.session.state === 'booted' || v.session.state === 'paused');
    if (vms.length === 0) throw new Error('lab:snapshot(): the lab has no running VM to snapshot; boot its VMs first');
    if (this.labs.size > 0) throw new Error('lab:snapshot(): snapshots of labs with sub-labs are not available yet; snapshot the sub-lab itself');
    const network = this.network?.hasNetwork() ? await this.network.get() : undefined;
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`lab:snapshot(): directory ${dir} is not empty; give a new or empty directory`);
    const tmp = `${dir}.partial-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      const index: LabIndex = { format: 1, vms: [] };
      if (network && (this.bridges.size > 0 || vms.some((v) => this.network!.hasNics(v.session.netId)))) {
        const state = network.state({ vms: vms.map((v) => v.session.netId), bridges: [...this.bridges.values()].map((b) => b.id) });
        index.network = renameState(state, this.prefix, '');
      }
      for (const v of vms) {
        const file = `${v.session.name}.snap`;
        const taken = await v.session.snapshot(path.join(tmp, file));
        const desc = taken.header.vm as { profile: string; memory: number; cpus: number };
        index.vms.push({ name: v.session.name, file, profile: desc.profile, memory: desc.memory, cpus: desc.cpus });
      }
      writeLabIndex(tmp, index);
      rmSync(dir, { recursive: true, force: true }); // an empty directory the author gave
      renameSync(tmp, dir);
      return new LabSnapshotHandle(dir);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * `lab:restore(snap)`: each VM of the snapshot replaces this lab's VM of
   * that name, or joins the lab as a new VM; new ones take their resources in
   * one acquisition. All are restored in parallel.
   */
  async restore(dir: string, signal: AbortSignal, mode = restoreMode(this.services)): Promise<void> {
    const index = readLabIndex(dir);
    const host = this.requireHost();
    if (index.network) await this.restoreNetwork(index.network as NetworkState, index.vms.map((v) => v.name));
    const templates = await Promise.all(index.vms.map((v) => host.snapshotTemplate(path.join(dir, v.file))));
    const targets = index.vms.map((v) => this.vms.get(v.name) ?? this.create(v.name, v.profile, { memory: v.memory, cpus: v.cpus }));
    const fresh = targets.filter((t) => t.session.state === 'created');
    const shares = new Map<VmHandle, ReturnType<typeof shareLease>[number]>();
    if (fresh.length > 0) {
      const total = fresh.reduce((t, v) => ({ memory: t.memory + (index.vms[targets.indexOf(v)].memory), cpus: t.cpus + index.vms[targets.indexOf(v)].cpus }), { memory: 0, cpus: 0 });
      const leaseId = await host.acquire(`restore of ${path.basename(dir)} in ${this.services.task.displayPath}`, total);
      shareLease(host, leaseId, fresh.length).forEach((sh, i) => shares.set(fresh[i], sh));
    }
    const results = await Promise.allSettled(targets.map((t, i) => t.session.restore(templates[i], mode, signal, shares.get(t))));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * The network of a lab snapshot: restored in place (same VMs and bridges:
   * the impairments go back to the snapshot's), or re-created on fresh
   * private switches for VMs new to this lab.
   */
  private async restoreNetwork(state: NetworkState, vmNames: string[]): Promise<void> {
    const net = await this.requireNetwork().get();
    const bridgeNames = state.bridges.map((b) => b.id);
    const present = vmNames.filter((n) => this.vms.has(n)).length + bridgeNames.filter((n) => this.bridges.has(n)).length;
    if (present === vmNames.length + bridgeNames.length) {
      for (const b of state.bridges) await net.setImpairments(this.bridges.get(b.id)!.id, renameState({ ...state, bridges: [b] }, '', this.prefix).bridges[0].impairments);
      return;
    }
    if (present > 0) throw new Error('lab:restore(): the lab has some of the snapshot\'s VMs or bridges but not all; restore into a new sub-lab (lab:lab()) or into the lab it was taken from');
    for (const name of vmNames) this.checkFree(name, 'VM');
    await net.importState(renameState(state, '', this.prefix));
    for (const b of state.bridges) this.bridges.set(b.id, new BridgeHandle(this, b.name, `${this.prefix}${b.id}`));
  }

  /** `lab:vm_fixture(name)`: a VM of this lab resumed from the cached fixture; it keeps its name from the fixture. */
  async vmFixture(name: string, signal: AbortSignal): Promise<VmHandle> {
    const host = this.requireHost();
    preloadDriver();
    const entry = await host.fixture(name, 'vm');
    const template = await host.snapshotTemplate(entry.path);
    const vmName = String(template.header.vm.name);
    if (this.vms.has(vmName) || this.labs.has(vmName)) {
      throw new Error(`fixture "${name}" brings a VM named "${vmName}", but this lab already has a member of that name; resume it in a sub-lab or rename one`);
    }
    const vm = this.create(vmName, String(template.header.vm.profile), {});
    await vm.session.restore(template, restoreMode(this.services), signal);
    return vm;
  }

  /** `lab:lab_fixture(name)`: a sub-lab resumed from the cached lab fixture, named after the fixture's last path part. */
  async labFixture(name: string, signal: AbortSignal): Promise<Lab> {
    preloadDriver();
    const entry = await this.requireHost().fixture(name, 'lab');
    const key = name.split('/').pop()!;
    let label = key;
    for (let n = 2; this.labs.has(label) || this.vms.has(label) || this.bridges.has(label); n++) label = `${key}${n}`;
    // Network ids never repeat in a file: a test-scoped copy's switches may outlive its test until the file ends.
    const sub = new Lab(this.services, this, `${this.prefix}${label}.${++labCopies}/`);
    this.labs.set(label, sub);
    await sub.restore(entry.path, signal);
    return sub;
  }

  lookup(name: string): VmHandle {
    const vm = this.vms.get(name);
    if (!vm) throw new Error(`no VM named "${name}" in this lab${this.vms.size ? ` (VMs: ${[...this.vms.keys()].join(', ')})` : ''}`);
    return vm;
  }
}

export class VmHandle {
  constructor(
    readonly session: VmSession,
    /** The lab that created it (its network and bridges). */
    readonly lab: Lab,
  ) {}
}

/** A bridge of a lab: a switch in the network thread; VMs are known to it by their ids in the file. */
export class BridgeHandle {
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

/** A VM or `{from=, to=}` as the network's ends. */
type Ends = { from?: VmHandle; to?: VmHandle };
const idOf = (v: VmHandle | undefined) => v?.session.netId;

/** An open guest file; closed at the end of the file if the test did not close it. */
class FileHandle {
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
}

const OPEN_MODES = ['r', 'w', 'a', 'r+', 'w+', 'a+'];
const WHENCE = ['set', 'cur', 'end'];

class ConsoleHandle {
  constructor(readonly vm: VmHandle) {}
}

class ClockHandle {
  constructor(readonly vm: VmHandle) {}
}

const ms = (seconds: number, call: CallContext) => seconds * 1000 * call.services.timeoutScale;

/**
 * Waits until the console output after the cursor matches `pattern`; the
 * cursor then moves past the match, so the next expect sees only later output
 * (the first one sees the whole log since boot).
 */
async function consoleExpect(vm: VmHandle, pattern: string, seconds: number, call: CallContext): Promise<Buffer> {
  const s = vm.session;
  s.agentFor();
  const con = s.console!;
  const deadline = Date.now() + ms(seconds, call);
  for (;;) {
    const unread = s.unreadConsole();
    const found = luaFind(unread, pattern);
    if (found) {
      s.consoleCursor += found.end;
      return Buffer.from(found.match);
    }
    if (s.state === 'shutdown' || s.consoleEnded) {
      throw (await s.exitCause()) ?? new Error(`${s.label}: shut down before the console matched ${JSON.stringify(pattern)}`);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const tail = bytesToText(unread).split('\n').slice(-10).join('\n');
      throw new Error(`${s.label}: console did not match ${JSON.stringify(pattern)} within ${seconds * call.services.timeoutScale}s; last console lines:\n${tail}`);
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        con.off('data', done);
        con.off('end', done);
        call.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, left);
      con.on('data', done);
      con.on('end', done);
      call.signal.addEventListener('abort', done, { once: true });
    });
    if (call.signal.aborted) throw call.signal.reason;
  }
}

function requireHostOf(call: CallContext) {
  if (!call.services.host) throw new Error('no VM host in this run (internal: runLuaFile was called without host services)');
  return call.services.host;
}

export function registerVms(registry: BindingRegistry): void {
  registry.registerGlobal('provium', { value: (services: FileServices) => new Lab(services) }, { replace: true });

  registry.registerClass<Lab>('Lab', {
    is: (v) => v instanceof Lab,
    member: (lab, name) => lab.vms.get(name) ?? lab.bridges.get(name) ?? lab.labs.get(name),
    fields: {
      reset_between_tests: {
        get: (_lab, call) => resetBetweenTests.has(call.services),
        set: (lab, value, call) => {
          if (call.services.testName !== undefined) throw new Error('provium.reset_between_tests is a file setting: set it in top-level code, not inside a test');
          if (value) resetBetweenTests.add(call.services);
          else resetBetweenTests.delete(call.services);
          setUpResets(lab, call.services);
        },
      },
    },
    methods: {
      snapshot: async (lab, [dir], call) => lab.snapshot(snapshotPathArg(dir, 'lab:snapshot()') ?? freshTempPath(call.services, 'lab', '')),
      restore: async (lab, [snap], call) => {
        await lab.restore(snap instanceof LabSnapshotHandle ? snap.dir : path.resolve(snap as string), call.signal);
        return lab;
      },
      vm_fixture: async (lab, [name], call) => {
        const vm = await lab.vmFixture(name as string, call.signal);
        testScoped(lab, vm.session.name, call);
        return vm;
      },
      lab_fixture: async (lab, [name], call) => {
        const sub = await lab.labFixture(name as string, call.signal);
        testScoped(lab, [...lab.labs].find(([, l]) => l === sub)![0], call);
        return sub;
      },
      depends_on_file: () => undefined,
      vm: (lab, [name, profile, opts], call) => (call.overload === 1 ? lab.lookup(name as string) : lab.create(name as string, profile as string, opts as VmOpts)),
      members: (lab) => lab.members(),
      bridge: async (lab, [name], call) => {
        // bridge(name) looks the bridge up, or creates it (the user's own fixture example does `provium:bridge("lan")`).
        if (call.overload === 1 && lab.bridges.has(name as string)) return lab.bridges.get(name as string);
        return lab.createBridge(name as string);
      },
      lab: (lab, [name]) => lab.subLab(name as string | undefined),
      include: (lab, [member]) => lab.include(member as VmHandle | BridgeHandle | Lab),
      remove: (lab, [member]) => lab.remove(member as VmHandle | BridgeHandle | Lab),
      boot: async (lab, _a, call) => {
        await lab.boot(call.signal);
        return lab;
      },
      claim: (lab, [opts]) => lab.claim(opts as { memory?: number; cpus?: number }),
      shutdown: async (lab) => {
        await Promise.all(lab.allVms().map((v) => v.session.shutdown()));
      },
      pause: async (lab) => {
        await Promise.all(lab.allVms().filter((v) => v.session.state === 'booted').map((v) => v.session.pause()));
      },
      resume: async (lab) => {
        await Promise.all(lab.allVms().filter((v) => v.session.state === 'paused').map((v) => v.session.resume()));
      },
    },
  });

  registry.registerClass<VmHandle>('VM', {
    is: (v) => v instanceof VmHandle,
    receiver: 'vm',
    tostring: (vm) => `VM(${vm.session.name}, ${vm.session.state})`,
    fields: {
      name: { get: (vm) => vm.session.name },
      profile: { get: (vm) => vm.session.profile },
      state: { get: (vm) => vm.session.state },
    },
    methods: {
      boot: async (vm, [opts], call) => {
        await vm.session.boot((opts ?? {}) as BootOpts, call.signal);
        return vm;
      },
      shutdown: (vm) => vm.session.shutdown(),
      pause: (vm) => vm.session.pause(),
      resume: (vm) => vm.session.resume(),
      reset: (vm, _a, call) => vm.session.reset(call.signal),
      power_button: (vm) => vm.session.powerButton(),
      run: async (vm, [cmd, opts], call) => {
        const o = (opts ?? {}) as RunOpts;
        const agent = vm.session.agentFor();
        const r = await vm.session.guard(
          agent.exec(commandOf(cmd as string, o), { env: o.env, cwd: o.cwd, stdin: o.stdin, timeoutMs: o.timeout === undefined ? undefined : ms(o.timeout, call) }),
          call.signal,
        );
        return new RunResult(commandText(cmd as string, o), r);
      },
      run_async: async (vm, [cmd, opts]) => {
        const o = (opts ?? {}) as RunOpts;
        if (o.timeout !== undefined) throw new Error('run_async takes no timeout: use process:wait(timeout) and process:kill()');
        const proc = await vm.session.guard(vm.session.agentFor().spawn(commandOf(cmd as string, o), { env: o.env, cwd: o.cwd }));
        const handle = new ProcessHandle(vm.session, commandText(cmd as string, o), proc);
        if (o.stdin !== undefined) {
          await proc.write(o.stdin);
          await proc.closeStdin();
        }
        return handle;
      },
      read_file: (vm, [p]) => vm.session.guard(vm.session.agentFor().readFile(p as string)),
      write_file: (vm, [p, data]) => vm.session.guard(vm.session.agentFor().writeFile(p as string, data as Uint8Array)),
      stat: async (vm, [p]) => {
        const st = await vm.session.guard(vm.session.agentFor().stat(p as string));
        return { size: st.size, mtime: st.mtime, perm: st.perm, entry_type: st.entryType };
      },
      listdir: async (vm, [p]) => {
        const entries = await vm.session.guard(vm.session.agentFor().listdir(p as string));
        return entries.map((e) => ({ name: e.name, entry_type: e.entryType }));
      },
      mkdir: (vm, [p, opts]) => vm.session.guard(vm.session.agentFor().mkdir(p as string, { parents: !!(opts as { parents?: boolean } | undefined)?.parents })),
      unlink: (vm, [p]) => vm.session.guard(vm.session.agentFor().unlink(p as string)),
      rename: (vm, [a, b]) => vm.session.guard(vm.session.agentFor().rename(a as string, b as string)),
      push_file: async (vm, [host, guest]) => {
        const agent = vm.session.agentFor();
        let data: Buffer;
        try {
          data = await readFile(host as string);
        } catch (e) {
          throw new Error(`cannot read host file ${host as string}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        await vm.session.guard(agent.writeFile(guest as string, data));
      },
      open_file: async (vm, [p, mode], call) => {
        if (!OPEN_MODES.includes(mode as string)) throw new Error(`mode must be one of ${OPEN_MODES.map((m) => `"${m}"`).join(', ')}; got "${mode as string}"`);
        const f = new FileHandle(vm, p as string, await vm.session.guard(vm.session.agentFor().open(p as string, mode as 'r')));
        call.services.onFileEnd(async () => {
          if (!f.closed && vm.session.state === 'booted') await f.file.close().catch(() => {});
        });
        return f;
      },
      nic: (vm, [bridge]) => {
        const lab = vm.lab;
        const b = lab.bridges.get(bridge as string);
        if (!b || !lab.network?.hasNics(vm.session.netId) || !vm.lab.network!.nicOn(b.id, vm.session.netId)) {
          throw new Error(`${vm.session.label} has no NIC on bridge "${bridge as string}"; attach it first: provium.${bridge as string}:attach({${vm.session.name}})`);
        }
        return new NicHandle(vm, b);
      },
      snapshot: async (vm, [p], call) => {
        if (vm.lab.network?.hasNics(vm.session.netId)) {
          throw new Error(`${vm.session.label} is on a bridge: snapshot its lab (provium:snapshot()) to keep its network; a single-VM snapshot of a networked VM is not available yet`);
        }
        const out = snapshotPathArg(p, `${vm.session.label}: vm:snapshot()`) ?? freshTempPath(call.services, vm.session.name, '.snap');
        await vm.session.snapshot(out);
        return new SnapshotHandle(out);
      },
      restore: async (vm, [snap], call) => {
        const template = await vm.session.guard(requireHostOf(call).snapshotTemplate(snapshotFileOf(snap)));
        await vm.session.restore(template, restoreMode(call.services), call.signal);
        return vm;
      },
      console: (vm) => new ConsoleHandle(vm),
      clock: (vm) => new ClockHandle(vm),
    },
  });

  const vmList = (v: unknown): VmHandle[] => (Array.isArray(v) ? (v as VmHandle[]) : [v as VmHandle]);
  const ends = (a: unknown, b: unknown): [string, string] | [{ from: string; to: string }] =>
    a instanceof VmHandle ? [idOf(a)!, idOf(b as VmHandle)!] : [{ from: idOf((a as Ends).from)!, to: idOf((a as Ends).to)! }];
  const directed = <T extends object>(spec: unknown, key: 'ms' | 'p'): number | (T & { from?: string; to?: string }) => {
    if (typeof spec === 'number') return spec;
    const o = spec as Ends & Record<string, number>;
    return { ...(o.from ? { from: idOf(o.from) } : {}), ...(o.to ? { to: idOf(o.to) } : {}), [key]: o[key] } as never;
  };
  registry.registerClass<BridgeHandle>('Bridge', {
    is: (v) => v instanceof BridgeHandle,
    receiver: 'bridge',
    tostring: (b) => `Bridge(${b.name})`,
    fields: { name: { get: (b) => b.name } },
    methods: {
      attach: (b, [vms]) => b.attach(vmList(vms)),
      detach: async (b, [vm]) => (await b.net()).detach(b.id, idOf(vm as VmHandle)!),
      partition: async (b, [x, y]) => {
        if (x instanceof VmHandle && y === undefined) throw new Error(`bridge "${b.name}": partition(a, b) needs two VMs, or one direction as {from=a, to=b}`);
        await (await b.net()).partition(b.id, ...ends(x, y));
      },
      unpartition: async (b, [x, y]) => (await b.net()).unpartition(b.id, ...ends(x, y)),
      partition_all: async (b) => (await b.net()).partitionAll(b.id),
      restore_all: async (b) => (await b.net()).restoreAll(b.id),
      add_latency: async (b, [spec]) => (await b.net()).addLatency(b.id, directed<{ ms: number }>(spec, 'ms') as never),
      drop_rate: async (b, [spec]) => (await b.net()).dropRate(b.id, directed<{ p: number }>(spec, 'p') as never),
      isolate: async (b, [vm]) => (await b.net()).isolate(b.id, idOf(vm as VmHandle)!),
      unisolate: async (b, [vm]) => (await b.net()).unisolate(b.id, idOf(vm as VmHandle)!),
      reset: async (b) => (await b.net()).reset(b.id),
    },
  });

  registry.registerClass<NicHandle>('NIC', {
    is: (v) => v instanceof NicHandle,
    receiver: 'nic',
    tostring: (n) => `NIC(${n.vm.session.name} on ${n.bridge.name})`,
    methods: {
      counters: async (n) => {
        const c = await (await n.bridge.net()).counters(n.bridge.id, n.vm.session.netId);
        return { rx_bytes: c.rx_bytes, tx_bytes: c.tx_bytes, rx_packets: c.rx_packets, tx_packets: c.tx_packets };
      },
    },
  });

  registry.registerClass<SnapshotHandle>('Snapshot', {
    is: (v) => v instanceof SnapshotHandle,
    receiver: 'snap',
    tostring: (sn) => `Snapshot(${sn.file})`,
    methods: {
      path: (sn) => sn.file,
      size: (sn) => sn.size(),
      delete: (sn) => sn.delete(),
    },
  });

  registry.registerClass<LabSnapshotHandle>('LabSnapshot', {
    is: (v) => v instanceof LabSnapshotHandle,
    receiver: 'lab_snap',
    tostring: (sn) => `LabSnapshot(${sn.dir})`,
    methods: {
      path: (sn) => sn.dir,
      size: (sn) => sn.size(),
      delete: (sn) => sn.delete(),
    },
  });

  registry.registerClass<RunResult>('RunResult', {
    is: (v) => v instanceof RunResult,
    receiver: 'result',
    tostring: (r) => `RunResult(${r.status}, exit ${r.exit_code})`,
    fields: {
      exit_code: { get: (r) => r.exit_code },
      stdout: { get: (r) => r.stdout },
      stderr: { get: (r) => r.stderr },
      status: { get: (r) => r.status },
      signal: { get: (r) => r.signal },
      timed_out: { get: (r) => r.timed_out },
    },
    methods: {
      ok: (r) => r.ok(),
      assert_ok: (r) => {
        if (!r.ok()) throw new Error(r.failureText());
        return r;
      },
    },
  });

  registry.registerClass<ProcessHandle>('Process', {
    is: (v) => v instanceof ProcessHandle,
    receiver: 'process',
    tostring: (p) => `Process(${p.proc.pid}, ${p.status()})`,
    methods: {
      wait: (p, [timeout], call) => p.wait(timeout === undefined ? undefined : (timeout as number) * call.services.timeoutScale),
      kill: async (p, [sig]) => {
        await p.request(() => p.proc.kill((sig as string | undefined) ?? 'term'));
      },
      pid: (p) => p.proc.pid,
      status: (p) => p.status(),
      stdin_write: (p, [data]) => p.request(() => p.proc.write(data as Uint8Array)),
      close_stdin: (p) => p.request(() => p.proc.closeStdin()),
      stdout_stream: (p, _a, call) => opened(p.stream('stdout'), call, p.vm),
      stderr_stream: (p, _a, call) => opened(p.stream('stderr'), call, p.vm),
    },
  });

  registry.registerClass<FileHandle>('File', {
    is: (v) => v instanceof FileHandle,
    receiver: 'file',
    tostring: (f) => `File(${f.path}${f.closed ? ', closed' : ''})`,
    methods: {
      read: (f, [n]) => f.vm.session.guard(f.use().read(n as number)),
      read_all: (f) => f.vm.session.guard(f.use().readAll()),
      write: async (f, [data]) => {
        await f.vm.session.guard(f.use().write(data as Uint8Array));
      },
      seek: (f, [off, whence]) => {
        const w = (whence as string | undefined) ?? 'set';
        if (!WHENCE.includes(w)) throw new Error(`whence must be "set", "cur" or "end"; got "${w}"`);
        return f.vm.session.guard(f.use().seek(off as number, w as 'set'));
      },
      tell: (f) => f.vm.session.guard(f.use().tell()),
      close: async (f) => {
        if (f.closed) return;
        const file = f.use();
        f.closed = true;
        await f.vm.session.guard(file.close());
      },
    },
  });

  const wait = (t: unknown, call: CallContext, dflt: number) => ((t as number | undefined) ?? dflt) * call.services.timeoutScale;
  registry.registerClass<Stream>('Stream', {
    is: (v) => v instanceof Stream,
    receiver: 'stream',
    tostring: (s) => `Stream(${s.label})`,
    methods: {
      next: (s, [t], call) => s.next(wait(t, call, STREAM_WAIT_S), call.signal),
      read_until: (s, [pattern, t], call) => s.until(pattern as string, wait(t, call, STREAM_WAIT_S), call.signal, 'through'),
      expect: (s, [pattern, t], call) => s.until(pattern as string, wait(t, call, STREAM_WAIT_S), call.signal, 'match'),
      drain: (s, [t], call) => s.drain(wait(t, call, 0), call.signal),
      close: (s) => s.close(),
      eof: (s) => s.eof(),
    },
  });

  registry.registerClass<ConsoleHandle>('Console', {
    is: (v) => v instanceof ConsoleHandle,
    receiver: 'console',
    methods: {
      read: (c, _a, call) => {
        c.vm.session.agentFor();
        const con = c.vm.session.console!;
        const session = c.vm.session;
        const s = new Stream(`${session.label}: console`, () => session.exitCause());
        s.attach((push, end) => {
          con.on('data', push);
          con.on('end', end);
          return () => {
            con.off('data', push);
            con.off('end', end);
          };
        });
        return opened(s, call, session);
      },
      read_log: (c) => c.vm.session.consoleLog(),
      expect: (c, [pattern, timeout], call) => consoleExpect(c.vm, pattern as string, (timeout as number | undefined) ?? CONSOLE_EXPECT_S, call),
      write: async (c, [data]) => {
        c.vm.session.agentFor();
        await c.vm.session.console!.write(data as Uint8Array);
      },
    },
  });

  registry.registerClass<ClockHandle>('Clock', {
    is: (v) => v instanceof ClockHandle,
    receiver: 'clock',
    methods: {
      get: (c) => c.vm.session.guard(c.vm.session.agentFor().getClock()),
      set: (c, [t]) => c.vm.session.guard(c.vm.session.agentFor().setClock(t as number)),
      advance: async (c, [d]) => {
        const agent = c.vm.session.agentFor();
        const t = await c.vm.session.guard(agent.getClock());
        await c.vm.session.guard(agent.setClock(t + (d as number)));
      },
    },
  });
}

registerVms(defaultRegistry);
