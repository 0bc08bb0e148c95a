/**
 * One VM of a test file: the operations on it (boot, snapshot, restore,
 * disks, pause, reset, shutdown) over its QEMU and agent connection, whose
 * state machine and errors vm-life.ts holds.
 */
import type { SnapshotBase } from '@provium/qemu';
import type { Lua, SnapshotTemplateInfo } from '@provium/types';
import { loadAndConnect, unlessAborted } from './agent-connect.js';
import type { DiskSpec } from './disks.js';
import { shareLease, type LeaseShare } from './lease.js';
import { kernelCmdline } from './cmdline.js';
import { restoreRecord, startRestore, type Launched } from './restore-launch.js';
import type { Spare } from './spares.js';
import { DROP_CACHES, SHRINK_FOR_CACHE } from './snapshot-prep.js';
import { refuseOpenStreams } from './open-streams.js';
import { traced } from './trace.js';
import { wakeGuest } from './guest-sleep.js';
import { bootKernel } from './kernel-format.js';
import { VmLife, now } from './vm-life.js';

export type { VmOpts, VmState } from './vm-life.js';

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
export type BootOpts = Lua.BootOpts;

const MiB = 1024 * 1024;
const SHUTDOWN_TIMEOUT_MS = 15_000;
/** How long a guest may take to let go of an unplugged disk. */
const UNPLUG_TIMEOUT_MS = 10_000;

export class VmSession extends VmLife {
  private launched: Launched | undefined;
  /** The fixture cache entry this VM was restored from, which a fixture built on it is stored over. */
  private base: SnapshotBase | undefined;

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
      // Loaded on first boot: files without VMs start faster without the driver.
      const { launchQemu, detectAccel } = await import('@provium/qemu');
      const append = kernelCmdline(profile.cmdline, this.name, boot, detectAccel() === 'tcg' ? profile.tcgCmdline : undefined);
      const kernel = bootKernel(profile, this.opts.kernel_format, this.label);
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

  /**
   * Writes a snapshot of the running (or paused) VM to `out`; the VM is in
   * the same state afterwards. The guest drops its page cache first (smaller
   * snapshot; snapshot-prep.ts) and the agent connection is closed across
   * it, so a restored guest waits for its next host with no half-sent frame.
   * `forCache` (a fixture build's snapshot, of a VM fixture or of a VM of a
   * lab fixture) also lets a systemd guest finish booting, trims and zeroes
   * what the guest no longer uses, and stores the snapshot over the cache
   * entry the VM was restored from, if any.
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
    const record = await restoreRecord(this.label, snap, this.env.host);
    const { memory, cpus } = record;
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
      const started = await startRestore(this, record, snap, mode, this.env.net, this.handshakeTimeoutMs, ready, spares);
      const { qemu, spare } = started;
      this.launched = started.launched;
      this.base = started.base;
      this.death = undefined;
      this.poweredOff = false;
      this.output.cursor = 0;
      await traced('attach', this.name, () => this.attach(qemu, memory, cpus, spare !== undefined));
      if (spare) {
        if (!spare.running) await traced('resume spare', this.name, () => qemu.resume());
        this.agent = spare.agent;
      } else {
        this.agent = await loadAndConnect(qemu, started.template, this.label, this.handshakeTimeoutMs, signal);
      }
      const agent = this.agent;
      await traced('set clock', this.name, () => agent.setClock(Date.now() / 1000));
      await traced('network', this.name, () => this.env.net.started(this, qemu, this.guestExec, true));
      this.state = 'booted';
      started.nextSpare?.();
    } catch (e) {
      await this.kill('restore failed');
      throw this.death ?? e;
    }
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

}
