/**
 * One VM's QEMU and agent connection as they come and go: its state
 * (created → booted ⇄ paused → shutdown), what QEMU's exit or the agent's
 * going away means, and the error an author can act on when an operation
 * meets a wrong state or a dead QEMU (`agentFor()`, `guard()`). session.ts
 * adds the operations that start, snapshot and stop it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentClient } from '@provium/agent';
import type { QemuProcess } from '@provium/qemu';
import type { HostServices, Lua, PreparedProfile, VmEvent } from '@provium/types';
import { EXIT_REPORT_MS, connectAgent, unlessAborted } from './agent-connect.js';
import { ConsoleLog } from './console-log.js';
import { VmDisks } from './disk-set.js';
import type { FileDisks } from './file-disks.js';
import type { FileNetwork } from './network.js';
import type { LeaseShare } from './lease.js';
import { GuestSleep } from './guest-sleep.js';

export type VmState = 'created' | 'booted' | 'paused' | 'shutdown';

/** As the schema has them (one source of truth: types/). */
export type VmOpts = Lua.VmOpts;

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

export const now = () => new Date().toISOString();
/** Time for the guest to boot to its agent, before --timeout-scale (TCG boots in a few seconds). */
export const BOOT_TIMEOUT_MS = 60_000;
/** How long after the agent's port closes QEMU may still exit (a guest powering off) before the agent counts as gone. */
const AGENT_GONE_GRACE_MS = 2000;

export class VmLife {
  state: VmState = 'created';
  protected qemu: QemuProcess | undefined;
  protected agent: AgentClient | undefined;
  /** Whether the guest suspended itself to RAM, of the running QEMU. */
  protected sleep: GuestSleep | undefined;
  protected lease: LeaseShare | undefined;
  /** Set when QEMU ended without being asked to (crash, panic, reboot): what every later operation reports. */
  protected death: Error | undefined;
  /** Set when the guest powered itself off (power button, `poweroff`): an orderly end, not a failure. */
  protected poweredOff = false;
  /** Set while the guest's agent is gone (it exited or was killed) and not answering again yet. */
  protected agentGone: Error | undefined;
  /** The serial console's output, kept after QEMU exits. */
  readonly output = new ConsoleLog();
  readonly disks: VmDisks;

  constructor(
    readonly name: string,
    readonly profile: string,
    protected readonly opts: VmOpts,
    protected readonly env: SessionEnv,
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

  /** Takes a started QEMU as this VM's: tracking, events, and what its exit means. */
  protected async attach(qemu: QemuProcess, memory: number, cpus: number, spare = false): Promise<void> {
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

  protected get handshakeTimeoutMs(): number {
    return BOOT_TIMEOUT_MS * this.env.timeoutScale;
  }

  protected connectAgent(qemu: QemuProcess, signal: AbortSignal): Promise<AgentClient> {
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
  protected deadError(): Error {
    return new Error(`${this.death!.message}\nThe VM is dead: create a new VM with provium:vm()`);
  }

  protected shutDownError(): Error {
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

  protected running(): QemuProcess {
    if (this.death) throw this.deadError();
    if (this.state === 'created') throw new Error(`${this.label}: VM not booted: call vm:boot() first`);
    if (this.state === 'shutdown') throw this.shutDownError();
    return this.qemu!;
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

  protected async releaseLease(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    await lease?.release().catch(() => {});
  }
}
