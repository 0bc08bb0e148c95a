/**
 * One VM of a test file: its QEMU process, its agent connection and its state
 * machine (created → booted ⇄ paused → shutdown). Every guest operation goes
 * through `agentFor()`, which turns a wrong state or a dead QEMU into the
 * error an author can act on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentClient } from '@provium/agent';
import type { QemuProcess, SnapshotTemplate } from '@provium/qemu';
import type { HostServices, Lua, PreparedProfile, SnapshotTemplateInfo, VmEvent } from '@provium/types';
import { EXIT_REPORT_MS, connectAgent, loadAndConnect, unlessAborted } from './agent-connect.js';
import { ConsoleLog } from './console-log.js';
import { VmDisks } from './disk-set.js';
import type { DiskSpec } from './disks.js';
import type { FileDisks } from './file-disks.js';
import type { FileNetwork } from './network.js';
import { shareLease, type LeaseShare } from './lease.js';
import { kernelCmdline } from './cmdline.js';
import { restoreSpareMaker } from './restore-spares.js';
import { spareKey, startSpare, takeSpare, type Spare } from './spares.js';
import { DROP_CACHES, SHRINK_FOR_CACHE } from './snapshot-prep.js';
import { refuseOpenStreams } from './open-streams.js';
import { traced } from './trace.js';
import { GuestSleep, wakeGuest } from './guest-sleep.js';
import { type KernelFormat, bootKernel, restoreKernel, restoreLaunchOptions } from './kernel-format.js';


export type VmState = 'created' | 'booted' | 'paused' | 'shutdown';

/** What a restore may start from besides the snapshot. */
export interface RestoreExtras {
  /** Resources taken for it already (a lab restoring several VMs on one acquisition). */
  lease?: LeaseShare;
  /** Its QEMU restored ahead of time (a VM of a lab spare, lab-spares.ts): resumed instead of launching one. */
  ready?: Spare;
  /** Whether the restore takes and makes single-VM spares (spares.ts); a lab that keeps lab spares does not. Default true. */
  spares?: boolean;
}

/** As the schema has them (one source of truth: types/). */
export type VmOpts = Lua.VmOpts;
export type BootOpts = Lua.BootOpts;

export interface SessionEnv {
  host: HostServices;
  /** The file's bridges: NIC arguments at launch, guest configuration once the agent answers. */
  net: FileNetwork;
  /** The file's client of the disk thread, for mediated disks. */
  mediator: FileDisks;
  /** The test file, for messages and the pool's owner names. */
  file: string;
  timeoutScale: number;
  vmEvent(e: VmEvent): void;
}

const MiB = 1024 * 1024;
const now = () => new Date().toISOString();
/** Time for the guest to boot to its agent, before --timeout-scale (TCG boots in a few seconds). */
export const BOOT_TIMEOUT_MS = 60_000;
const SHUTDOWN_TIMEOUT_MS = 15_000;
/** How long after the agent's port closes QEMU may still exit (a guest powering off) before the agent counts as gone. */
const AGENT_GONE_GRACE_MS = 2000;
/** How long a guest may take to let go of an unplugged disk. */
const UNPLUG_TIMEOUT_MS = 10_000;

export class VmSession {
  state: VmState = 'created';
  private qemu: QemuProcess | undefined;
  /** What the running QEMU was started with: a snapshot records it so a restore can match it. */
  private launched: { name: string; profile: string; identity: string; append: string; memory: number; cpus: number; kernelFormat: KernelFormat } | undefined;
  /** The fixture cache entry this VM was restored from, which a fixture built on it is stored over. */
  private base: import('@provium/qemu').SnapshotBase | undefined;
  private agent: AgentClient | undefined;
  /** Whether the guest suspended itself to RAM, of the running QEMU. */
  private sleep: GuestSleep | undefined;
  private lease: LeaseShare | undefined;
  /** Set when QEMU ended without being asked to (crash, panic, reboot): what every later operation reports. */
  private death: Error | undefined;
  /** Set when the guest powered itself off (power button, `poweroff`): an orderly end, not a failure. */
  private poweredOff = false;
  /** Set while the guest's agent is gone (it exited or was killed) and not answering again yet. */
  private agentGone: Error | undefined;
  /** The serial console's output, kept after QEMU exits. */
  readonly output = new ConsoleLog();
  readonly disks: VmDisks;

  constructor(
    readonly name: string,
    readonly profile: string,
    private readonly opts: VmOpts,
    private readonly env: SessionEnv,
    /** Unique in the file: the name, prefixed by its sub-lab's (`pair/a`); the network knows the VM by it. */
    readonly netId: string = name,
  ) {
    this.disks = new VmDisks(this.label, name, () => env.mediator.get());
  }

  get label(): string {
    return `vm "${this.name}"`;
  }

  /** The guest agent's own log, when the agent still answers. */
  async agentLog(): Promise<Buffer | undefined> {
    if (this.state !== 'booted' || this.death || !this.agent) return undefined;
    return this.agent.agentLog().catch(() => undefined);
  }

  get console() {
    return this.qemu?.console;
  }

  /** The profile and the resources this VM takes from the pool. */
  async demand(): Promise<{ profile: PreparedProfile; memory: number; cpus: number }> {
    const profile = await this.env.host.prepareProfile(this.profile);
    return { profile, memory: this.opts.memory ?? profile.memory, cpus: this.opts.cpus ?? profile.cpus };
  }

  /** Boots; with `lease`, on resources already taken for it (a lab boot), else on its own acquisition. */
  async boot(boot: BootOpts, signal: AbortSignal, lease?: LeaseShare): Promise<void> {
    if (this.state === 'shutdown') throw new Error(`${this.label} was shut down and cannot boot again: create a new VM with provium:vm()`);
    if (this.state === 'paused') throw new Error(`${this.label} is paused (booted already): call vm:resume() to run it again`);
    if (this.state !== 'created') throw new Error(`${this.label} is already booted`);
    if (boot.rng_seed !== undefined) throw new Error(`${this.label}: boot option rng_seed is not available yet in this version of Provium`);
    (boot.files ?? []).forEach((f, i) => {
      if (!f.path.startsWith('/')) throw new Error(`${this.label}: boot option files[${i + 1}].path must be an absolute guest path; got "${f.path}"`);
    });
    const { profile, memory, cpus } = await this.demand();
    await this.disks.checkBoot(profile.disk !== undefined, boot.disks ?? []);
    this.lease = lease ?? shareLease(this.env.host, await this.env.host.acquire(`${this.label} of ${this.env.file}`, { memory, cpus }), 1)[0];
    if (signal.aborted) {
      // The test ended (timeout) while the boot waited in the pool: nothing to boot for any more.
      await this.releaseLease();
      throw signal.reason;
    }
    try {
      const append = kernelCmdline(profile.cmdline, this.name, boot);
      const kernel = bootKernel(profile, this.opts.kernel_format, this.label);
      // Loaded on first boot: files without VMs start faster without the driver.
      const { launchQemu } = await import('@provium/qemu');
      const disks = await this.disks.forBoot(profile.disk, boot.disks ?? []);
      const qemu = await launchQemu({
        name: this.name, memoryMiB: Math.ceil(memory / MiB), cpus, kernel: kernel.path, initrd: profile.initrd, append, disks, extraArgs: this.env.net.launchArgs(this.netId),
      });
      this.launched = { name: this.name, profile: profile.name, identity: profile.identity, append, memory, cpus, kernelFormat: kernel.format };
      this.base = undefined;
      await this.attach(qemu, memory, cpus);
      this.agent = await this.connectAgent(qemu, signal);
      await this.env.net.started(this, qemu, this.guestExec, false);
      if (boot.initial_time !== undefined) await this.agent.setClock(boot.initial_time);
      for (const f of boot.files ?? []) {
        const dir = f.path.replace(/\/[^/]*$/, '');
        if (dir) await this.agent.mkdir(dir, { parents: true });
        await this.agent.writeFile(f.path, f.content, { mode: f.mode ?? 0o644 });
      }
      this.state = 'booted';
    } catch (e) {
      await this.kill('boot failed');
      throw this.death ?? e;
    }
  }

  /** Takes a started QEMU as this VM's: tracking, events, and what its exit means. */
  private async attach(qemu: QemuProcess, memory: number, cpus: number, spare = false): Promise<void> {
    this.qemu = qemu;
    this.sleep = new GuestSleep(qemu);
    this.output.follow(qemu);
    await this.env.host.qemuStarted({ pid: qemu.pid, runDir: qemu.runDir, vm: this.name });
    this.agentGone = undefined;
    const { AGENT_PORT_ID } = await import('@provium/qemu');
    qemu.qmp.on('event', (ev) => {
      if (ev.event === 'VSERPORT_CHANGE' && ev.data.id === AGENT_PORT_ID && ev.data.open === false && this.qemu === qemu) void this.agentPortClosed(qemu);
    });
    this.env.vmEvent({ event: 'vm_spawned', timestamp: now(), file: this.env.file, vm: this.name, pid: qemu.pid, memory, cpus, accel: qemu.accel, ...(spare ? { spare } : {}) });
    void qemu.onExit.then((exit) => {
      void this.env.host.qemuEnded(qemu.pid).catch(() => {});
      if (this.qemu === qemu) this.env.net.stopped(this.netId);
      if (exit.expected || this.qemu !== qemu) return;
      // The guest powering itself off is an end, not a failure; a reset (-no-reboot), panic or crash is.
      if (exit.shutdownReason === 'guest-shutdown') this.poweredOff = true;
      else this.death = new Error(`${this.label} died: ${exit.error.message}`);
      this.state = 'shutdown';
      this.agent?.close().catch(() => {});
      void this.releaseLease();
      const reason = this.poweredOff ? 'guest powered off' : `died (${exit.shutdownReason ?? (exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`)})`;
      this.env.vmEvent({ event: 'vm_shutdown', timestamp: now(), file: this.env.file, vm: this.name, reason });
    });
  }

  /**
   * The agent's port closed in the guest while the host was talking to it
   * (reset, snapshot and restore close the connection first): the agent
   * exited or was killed. What waits on it fails at once, saying so, instead
   * of at its timeout; the guest's init starts the agent again, and the VM
   * answers once the new one has shaken hands.
   */
  private async agentPortClosed(qemu: QemuProcess): Promise<void> {
    const agent = this.agent;
    if (!agent || agent.closedReason !== undefined || this.state === 'shutdown') return;
    const suspends = this.sleep?.suspends;
    // A guest that powers off or reboots closes the port just before QEMU exits: that exit tells the story.
    const exited = await Promise.race([qemu.onExit.then(() => true), sleep(AGENT_GONE_GRACE_MS, false, { ref: false })]);
    if (exited || this.agent !== agent || agent.closedReason !== undefined) return;
    // A guest suspending to RAM closes it too, and the agent is still there (guest-sleep.ts).
    if (this.sleep && (this.sleep.asleep || this.sleep.suspends !== suspends)) return;
    this.agentGone = new Error(
      `${this.label}: the guest agent exited or was killed (its port closed in the guest); the guest starts it again, and the VM answers once it has (the agent's log: /tmp/provium-agent.log in the guest)`,
    );
    void agent.close(this.agentGone.message);
    void this.connectAgent(qemu, new AbortController().signal).then(
      (again) => {
        if (this.qemu !== qemu || this.agent !== agent) return void again.close();
        this.agent = again;
        this.agentGone = undefined;
      },
      () => {}, // no new agent: agentGone keeps saying why
    );
  }

  /** Guest commands for the network's configuration, through whatever agent connection is current. */
  readonly guestExec = {
    exec: (cmd: string, o?: { timeoutMs?: number }) => {
      if (this.death) return Promise.reject(this.death);
      if (!this.agent) return Promise.reject(new Error(`${this.label}: the guest agent is not connected`));
      return this.agent.exec(cmd, o);
    },
  };

  /** Where each stream of this VM that is still open was opened (`vm:snapshot()` refuses while any is). */
  readonly openStreams = new Map<object, string>();
  /** Files of `vm:open_file` not closed yet. */
  readonly openFiles = new Set<object>();

  /**
   * Writes a snapshot of the running (or paused) VM to `out`; the VM is in
   * the same state afterwards. The guest drops its page cache first (smaller
   * snapshot; snapshot-prep.ts) and the agent connection is closed across
   * it, so a restored guest waits for its next host with no half-sent frame.
   * `forCache` (a fixture build's snapshot) also trims and zeroes what the
   * guest no longer uses, and stores the snapshot over the cache entry the
   * VM was restored from, if any.
   */
  async snapshot(out: string, forCache = false): Promise<import('@provium/qemu').TakenSnapshot> {
    const q = this.running();
    refuseOpenStreams(this.label, this.openStreams);
    const paused = this.state === 'paused';
    if (!paused) await this.guard(this.agentFor().exec(['sh', '-c', forCache ? SHRINK_FOR_CACHE : DROP_CACHES]));
    await this.agent?.close().catch(() => {});
    this.agent = undefined;
    const { takeSnapshot } = await import('@provium/qemu');
    try {
      // The NIC devices: a restore launches the same ones in the same slots.
      return await takeSnapshot(q, out, { ...this.launched!, ...this.env.net.snapshotRecord(this.netId) }, forCache ? this.base : undefined);
    } finally {
      if (q.exit === undefined) {
        if (paused) await q.resume();
        this.agent = await this.connectAgent(q, new AbortController().signal).catch((e: Error) => {
          throw this.death ?? e;
        });
        if (paused) await q.pause();
      }
    }
  }

  /**
   * Replaces this VM's QEMU with one restored from `snap` and waits for its
   * agent; the guest clock is set to now. A created VM takes its resources
   * from the pool first (`extras.lease` when a lab restores several at once).
   */
  async restore(snap: SnapshotTemplateInfo, mode: 'private' | 'copy', signal: AbortSignal, extras: RestoreExtras = {}): Promise<void> {
    try {
      await this.restoreFrom(snap, mode, signal, extras);
    } catch (e) {
      // A QEMU restored ahead that this VM did not take over yet dies here too.
      if (extras.ready && this.qemu !== extras.ready.qemu) await extras.ready.qemu.kill();
      throw e;
    }
  }

  private async restoreFrom(snap: SnapshotTemplateInfo, mode: 'private' | 'copy', signal: AbortSignal, { lease, ready, spares = true }: RestoreExtras): Promise<void> {
    if (this.state === 'shutdown') throw this.death ?? this.shutDownError();
    const vm = snap.header.vm as { profile?: string; identity?: string; append?: string; memory?: number; cpus?: number; kernelFormat?: unknown; nics?: unknown; guestNet?: unknown };
    if (typeof vm.profile !== 'string' || typeof vm.append !== 'string') throw new Error(`${this.label}: the snapshot does not say which profile it was taken with; take it again`);
    const profile = await this.env.host.prepareProfile(vm.profile);
    if (profile.identity !== vm.identity) {
      throw new Error(`${this.label}: the snapshot was taken with another kernel or initrd of profile "${vm.profile}" than this run has: take it again (or rebuild the fixture)`);
    }
    const memory = snap.header.machine.memoryMiB * MiB;
    const cpus = snap.header.machine.cpus;
    const old = this.qemu;
    if (old && old.exit === undefined) {
      await this.agent?.close().catch(() => {});
      this.agent = undefined;
      await old.kill();
    }
    if (this.state === 'created' || !this.lease) {
      this.lease = lease ?? shareLease(this.env.host, await this.env.host.acquire(`${this.label} of ${this.env.file}`, { memory, cpus }), 1)[0];
    }
    if (signal.aborted) {
      await this.releaseLease();
      throw signal.reason;
    }
    try {
      const { launchForRestore } = await import('@provium/qemu');
      const template: SnapshotTemplate = { header: snap.header as never, state: snap.state, ...(snap.ram ? { ram: snap.ram } : {}) };
      const layers = snap.disks ?? [];
      // A VM of a lab restored ahead runs on that lab's switches already, which the file's network has adopted.
      const extraArgs = ready ? [] : await this.env.net.restoreArgs(this, vm.nics, vm.guestNet, this.label);
      const withoutDisks = restoreLaunchOptions(this.name, profile, { append: vm.append, kernelFormat: vm.kernelFormat }, [], extraArgs);
      // A spare makes its disks' images itself; a mediated disk needs this file's disk thread.
      const key = spares && !ready && !layers.some((l) => l.mediated) ? spareKey(template, withoutDisks, mode) : undefined;
      const spare = ready ?? (key ? await traced('take spare', this.name, () => takeSpare(key)) : undefined);
      if (spare?.disks) await this.disks.adopt(spare.disks);
      const disks = spare?.disks?.map((d) => d.attachment) ?? (await traced('disks', this.name, () => this.disks.fromSnapshot(layers, profile.disk)));
      const opts = { ...withoutDisks, disks };
      const qemu = spare?.qemu ?? (await traced('qemu start', this.name, () => launchForRestore(template, opts, mode)));
      this.launched = { name: this.name, profile: vm.profile, identity: profile.identity, append: vm.append, memory, cpus, kernelFormat: restoreKernel(profile, vm, this.label).format };
      const rootLayers = Object.fromEntries(layers.filter((d) => d.kind === 'root-delta').map((d) => [d.slot, d.file]));
      this.base = snap.ref ? { ref: snap.ref, id: snap.header.id, ...(snap.ram ? { ram: snap.ram } : {}), layers: rootLayers } : undefined;
      this.death = undefined;
      this.poweredOff = false;
      this.output.cursor = 0;
      await traced('attach', this.name, () => this.attach(qemu, memory, cpus, spare !== undefined));
      if (spare) {
        await traced('resume spare', this.name, () => qemu.resume());
        this.agent = spare.agent;
      } else {
        this.agent = await loadAndConnect(qemu, template, this.label, this.handshakeTimeoutMs, signal);
      }
      const agent = this.agent;
      await traced('set clock', this.name, () => agent.setClock(Date.now() / 1000));
      await traced('network', this.name, () => this.env.net.started(this, qemu, this.guestExec, true));
      this.state = 'booted';
      if (key) startSpare(key, restoreSpareMaker(this.label, this.handshakeTimeoutMs, template, withoutDisks, mode, layers, profile.disk));
    } catch (e) {
      await this.kill('restore failed');
      throw this.death ?? e;
    }
  }

  private get handshakeTimeoutMs(): number {
    return BOOT_TIMEOUT_MS * this.env.timeoutScale;
  }

  private connectAgent(qemu: QemuProcess, signal: AbortSignal): Promise<AgentClient> {
    return connectAgent(qemu, this.label, this.handshakeTimeoutMs, signal);
  }

  /** The agent, if the VM is in a state to take guest operations; else the error that says what to do. */
  agentFor(): AgentClient {
    if (this.death) throw this.deadError();
    switch (this.state) {
      case 'created':
        throw new Error(`${this.label}: VM not booted: call vm:boot() first`);
      case 'paused':
        throw new Error(`${this.label} is paused: call vm:resume() first`);
      case 'shutdown':
        throw this.shutDownError();
    }
    if (this.sleep?.asleep) throw this.sleep.asleepError(this.label);
    if (this.agentGone) throw this.agentGone;
    return this.agent!;
  }

  /** Whether the running guest suspended itself to RAM: `vm:state()` says "suspended". */
  get asleep(): boolean {
    return this.state === 'booted' && !this.death && this.sleep?.asleep === true;
  }

  /** Whether QEMU died (crash, panic, guest reset) rather than being shut down: `vm:state()` says "dead". */
  get dead(): boolean {
    return this.death !== undefined;
  }

  /** The QEMU process id while it runs: `vm:cid()` (no vsock here, so no context id of its own). */
  get pid(): number | undefined {
    return this.state === 'booted' || this.state === 'paused' ? this.qemu?.pid : undefined;
  }

  /** What an operation on a dead VM raises: its death, and what to do. */
  private deadError(): Error {
    return new Error(`${this.death!.message}\nThe VM is dead: create a new VM with provium:vm()`);
  }

  private shutDownError(): Error {
    const how = this.poweredOff ? ' (the guest powered itself off)' : '';
    return new Error(`${this.label} is shut down${how}: create a new VM with provium:vm()`);
  }

  /** Fails with the death of QEMU (or the guest's power-off) when that is why the operation failed. */
  guard<T>(op: Promise<T>, signal?: AbortSignal): Promise<T> {
    // A test or file that times out must not stay parked on a guest command.
    return (signal ? unlessAborted(op, signal) : op).catch(async (e: unknown) => {
      // The agent answered with an error: it is there, and no QEMU exit is worth waiting for.
      if ((e as Error)?.name === 'AgentError') throw e;
      throw (await this.lostCause()) ?? e;
    });
  }

  /**
   * Why the guest stopped answering, when QEMU is gone: its death, or a note
   * that it powered off. A lost agent connection usually means QEMU is exiting,
   * so its exit gets up to EXIT_REPORT_MS to be reported.
   */
  async lostCause(): Promise<Error | undefined> {
    if (this.qemu && this.qemu.exit === undefined) await Promise.race([this.qemu.onExit, sleep(EXIT_REPORT_MS, undefined, { ref: false })]);
    if (this.death) return this.death;
    if (this.poweredOff) return new Error(`${this.label} powered off while the operation ran`);
    return undefined;
  }

  /** Once QEMU has exited: why, if it was not asked to (undefined after vm:shutdown() or a kill). */
  async exitCause(): Promise<Error | undefined> {
    await this.qemu?.onExit;
    return this.death ?? (this.poweredOff ? this.shutDownError() : undefined);
  }

  private running(): QemuProcess {
    if (this.death) throw this.deadError();
    if (this.state === 'created') throw new Error(`${this.label}: VM not booted: call vm:boot() first`);
    if (this.state === 'shutdown') throw this.shutDownError();
    return this.qemu!;
  }

  /** `vm:attach_disk`: made at boot on a created VM, hot-plugged into a running one. Returns its id. */
  async attachDisk(spec: DiskSpec): Promise<string> {
    if (this.state === 'created') return this.disks.attachAtBoot(spec);
    if (this.state === 'paused') throw new Error(`${this.label} is paused: call vm:resume() before attaching a disk (the guest takes the hot-plug)`);
    return (await this.disks.hotPlug(spec, this.running())).id;
  }

  /** `disk:detach()`: never raises. */
  async detachDisk(id: string): Promise<void> {
    await this.disks.detach(id, this.qemu, UNPLUG_TIMEOUT_MS * this.env.timeoutScale);
  }

  async pause(): Promise<void> {
    const q = this.running();
    if (this.state === 'paused') return;
    await q.pause();
    this.state = 'paused';
  }

  /** `vm:wakeup()` (guest-sleep.ts); a wakeup that ends in QEMU's exit is the VM's death as later operations report it. */
  async wakeup(signal: AbortSignal): Promise<void> {
    const q = this.running();
    if (this.state === 'paused') throw new Error(`${this.label} is paused: call vm:resume() (vm:wakeup() wakes a guest that suspended itself)`);
    if (this.agentGone) throw this.agentGone;
    try {
      await unlessAborted(wakeGuest(q, this.agent!, this.label, this.launched!.kernelFormat, this.handshakeTimeoutMs), signal);
    } catch (e) {
      if (this.death) this.death = e as Error;
      throw e;
    }
  }

  async resume(): Promise<void> {
    const q = this.running();
    if (this.state === 'booted') return;
    await q.resume();
    this.state = 'booted';
  }

  async reset(signal: AbortSignal): Promise<void> {
    const q = this.running();
    // Reset from S3 was seen to leave no agent to shake hands with (the boot timeout, then an error).
    if (this.asleep) throw new Error(`${this.label}: the guest is suspended to RAM: call vm:wakeup() before vm:reset()`);
    await this.agent?.close().catch(() => {});
    // console expect() starts over with the new boot
    this.output.cursor = this.output.size();
    await q.reset();
    if (this.state === 'paused') await q.resume();
    try {
      this.agent = await this.connectAgent(q, signal);
    } catch (e) {
      throw this.death ?? e;
    }
    this.state = 'booted';
  }

  async powerButton(): Promise<void> {
    await this.running().powerButton();
  }

  async shutdown(): Promise<void> {
    if (this.state === 'shutdown') return;
    if (this.state === 'created') {
      this.state = 'shutdown';
      return;
    }
    const q = this.qemu!;
    this.state = 'shutdown';
    await this.agent?.close().catch(() => {});
    await q.shutdown({ timeoutMs: SHUTDOWN_TIMEOUT_MS * this.env.timeoutScale });
    await this.releaseLease();
    this.env.vmEvent({ event: 'vm_shutdown', timestamp: now(), file: this.env.file, vm: this.name, reason: 'shutdown' });
  }

  /**
   * `--keep-on-failure`: leaves a running VM up after its file, with the agent
   * socket free for `provium shell`; the main thread ends it when provium exits.
   */
  async keep(): Promise<void> {
    const q = this.qemu;
    if (!q || q.exit !== undefined || (this.state !== 'booted' && this.state !== 'paused')) return this.kill('file ended');
    await this.agent?.close().catch(() => {});
    this.agent = undefined;
    this.env.vmEvent({ event: 'vm_kept', timestamp: now(), file: this.env.file, vm: this.name, pid: q.pid, agent_socket: q.agentSocketPath, console_log: q.consoleLogPath });
  }

  /** Ends the VM at once (file end, timeout, failed boot). */
  async kill(reason: string): Promise<void> {
    const wasUp = this.qemu !== undefined && this.qemu.exit === undefined;
    this.state = 'shutdown';
    await this.agent?.close().catch(() => {});
    if (this.qemu && this.qemu.exit === undefined) await this.qemu.kill();
    await this.disks.dispose();
    await this.releaseLease();
    if (wasUp) this.env.vmEvent({ event: 'vm_shutdown', timestamp: now(), file: this.env.file, vm: this.name, reason });
  }

  private async releaseLease(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    await lease?.release().catch(() => {});
  }
}
