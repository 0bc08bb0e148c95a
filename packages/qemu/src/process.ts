import { EventEmitter } from 'node:events';
import type { QemuConsole } from './console.js';
import type { DiskAttachment } from './disks.js';
import type { QemuExitedError } from './errors.js';
import type { Accel } from './host.js';
import { killGroup, renice } from './procfs.js';
import type { QmpClient } from './qmp.js';

export interface QemuExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the exit was asked for through shutdown() or kill(). */
  expected: boolean;
  /** `reason` of QEMU's SHUTDOWN event if one came: guest-shutdown, guest-reset (a reboot: -no-reboot), guest-panic, host-qmp-quit, host-signal... */
  shutdownReason: string | undefined;
  consoleTail: string[];
  stderrTail: string[];
  /** Logs copied to `artifactsDir`. */
  artifacts: string[];
  /** Describes the exit; what pending operations were rejected with. */
  error: QemuExitedError;
}

export interface QemuStatus {
  /** QEMU run state: running, paused, suspended (guest in ACPI S3), inmigrate, postmigrate, shutdown, ... */
  status: string;
  running: boolean;
}

/** Mutable facts shared between the launcher (which sees the exit) and the process object. */
export interface ExitState {
  expected: boolean;
  shutdownReason: string | undefined;
}

export interface QemuProcessParts {
  name: string;
  pid: number;
  runDir: string;
  agentSocketPath: string;
  consoleLogPath: string;
  accel: Accel;
  args: string[];
  qmp: QmpClient;
  console: QemuConsole;
  exitState: ExitState;
  exited: Promise<QemuExit>;
  opTimeoutMs: number;
  /** The fd of the device state handed over at launch (`incoming: { state }`). */
  incomingFd?: number;
  /** What the guest was launched with (snapshots record it; a restore must match it). */
  /** `disks` changes as disks are hot-plugged and unplugged. */
  machine: { memoryMiB: number; cpus: number; ram: { path: string; share: boolean }; disks: DiskAttachment[] };
}

/** A running QEMU. Every operation waits for QEMU to confirm the new state (QMP event or status), never for a fixed time. */
export class QemuProcess extends EventEmitter<{ exit: [QemuExit] }> {
  readonly name: string;
  readonly pid: number;
  readonly runDir: string;
  readonly agentSocketPath: string;
  readonly consoleLogPath: string;
  readonly accel: Accel;
  /** The QEMU argv (without binary and setpriv wrapper). */
  readonly args: readonly string[];
  readonly qmp: QmpClient;
  readonly console: QemuConsole;
  /** Settles once, when QEMU has exited and the run dir is cleaned up; never rejects. */
  readonly onExit: Promise<QemuExit>;
  readonly machine: QemuProcessParts['machine'];
  private exitInfo: QemuExit | undefined;
  private readonly exitState: ExitState;
  readonly opTimeoutMs: number;
  /** The fd of the device state handed over at launch, for loadState. */
  readonly incomingFd: number | undefined;
  /**
   * Set by reset(): the next guest resets are the firmware's and must not end
   * QEMU. `armed` until QEMU reports the reset, `reset` after: only a port
   * opened after the reset is the rebooted guest's agent (the old guest's
   * agent may open it right before; its event comes before RESET).
   */
  private firmwareReboot: 'off' | 'armed' | 'reset' = 'off';

  constructor(parts: QemuProcessParts) {
    super();
    this.name = parts.name;
    this.pid = parts.pid;
    this.runDir = parts.runDir;
    this.agentSocketPath = parts.agentSocketPath;
    this.consoleLogPath = parts.consoleLogPath;
    this.accel = parts.accel;
    this.args = parts.args;
    this.qmp = parts.qmp;
    this.console = parts.console;
    this.exitState = parts.exitState;
    this.opTimeoutMs = parts.opTimeoutMs;
    this.machine = parts.machine;
    this.incomingFd = parts.incomingFd;
    // The firmware's own reboots after a reset come in one or two guest resets, so the
    // reboot action goes back to -no-reboot only once the rebooted guest is up: when
    // its agent opens the virtio-serial port.
    this.qmp.on('event', (ev) => {
      if (ev.event === 'RESET' && ev.data.guest === false && this.firmwareReboot === 'armed') this.firmwareReboot = 'reset';
      if (ev.event === 'VSERPORT_CHANGE' && ev.data.open === true && this.firmwareReboot === 'reset') this.forbidGuestReboot();
    });
    this.onExit = parts.exited.then((info) => {
      this.exitInfo = info;
      this.emit('exit', info);
      return info;
    });
  }

  /** The exit, once QEMU is gone. */
  get exit(): QemuExit | undefined {
    return this.exitInfo;
  }

  async status(): Promise<QemuStatus> {
    const r = await this.qmp.execute<{ status: string; running: boolean }>('query-status');
    return { status: r.status, running: r.running };
  }

  /** Sets QEMU's CPU priority, for all of its threads (see LaunchOptions.nice). */
  renice(value: number): void {
    renice(this.pid, value);
  }

  /** `stop`; done when STOP arrives or the status says paused (a paused VM sends no STOP). */
  pause(): Promise<void> {
    return this.commandUntil('stop', 'STOP', (s) => !s.running);
  }

  /**
   * `cont`; done when RESUME arrives or the status says running, or suspended:
   * a guest paused while it slept in S3 goes back to sleep, without RESUME.
   */
  resume(): Promise<void> {
    return this.commandUntil('cont', 'RESUME', (s) => s.running || s.status === 'suspended');
  }

  /**
   * `system_wakeup` of a guest that suspended itself to RAM (status
   * "suspended"); done at WAKEUP or once the status is no longer suspended.
   * The guest then resumes through the firmware's S3 path.
   */
  wakeup(): Promise<void> {
    return this.commandUntil('system_wakeup', 'WAKEUP', (s) => s.status !== 'suspended');
  }

  /**
   * Hard reset (`system_reset`), done at the RESET event. QEMU runs with
   * -no-reboot, which turns every reset into an exit, so the reboot action is
   * `reset` from here until the rebooted guest opens its agent port: SeaBIOS
   * answers a reset that finds its POST already done with one or two hard
   * reboots of its own (guest resets). Any guest reset after that (reboot,
   * panic=-1) exits again.
   */
  async reset(): Promise<void> {
    const ev = this.qmp.waitForEvent('RESET', (e) => e.data.guest === false, this.opTimeoutMs);
    ev.catch(() => {});
    this.firmwareReboot = 'armed';
    try {
      await this.qmp.execute('set-action', { reboot: 'reset' });
      await this.qmp.execute('system_reset');
    } catch (err) {
      this.forbidGuestReboot();
      throw err;
    }
    await ev;
  }

  /** ACPI power button (`system_powerdown`), done at POWERDOWN. Whether the guest then shuts down is up to the guest. */
  async powerButton(): Promise<void> {
    const ev = this.qmp.waitForEvent('POWERDOWN', undefined, this.opTimeoutMs);
    ev.catch(() => {});
    await this.qmp.execute('system_powerdown');
    await ev;
  }

  /**
   * Orderly stop: power button and up to `timeoutMs` for the guest to power
   * off (skipped when 0 or when the VM is paused), then QMP `quit`, then
   * SIGKILL. Resolves with the exit once the run dir is cleaned up.
   */
  async shutdown(opts: { timeoutMs?: number } = {}): Promise<QemuExit> {
    if (this.exitInfo) return this.exitInfo;
    const timeoutMs = opts.timeoutMs ?? 30_000;
    this.exitState.expected = true;
    if (timeoutMs > 0) {
      try {
        if ((await this.status()).running) {
          await this.qmp.execute('system_powerdown');
          const info = await settleWithin(this.onExit, timeoutMs);
          if (info) return info;
        }
      } catch {
        // QEMU went away meanwhile: onExit has the story
        if (this.qmp.closed) return this.onExit;
      }
    }
    try {
      await this.qmp.execute('quit');
    } catch {
      // the answer may be lost when QEMU exits first
    }
    return (await settleWithin(this.onExit, this.opTimeoutMs)) ?? this.kill();
  }

  /** SIGKILL to QEMU's process group; resolves with the exit once cleaned up. */
  kill(): Promise<QemuExit> {
    if (!this.exitInfo) {
      this.exitState.expected = true;
      killGroup(this.pid);
    }
    return this.onExit;
  }

  /** Back to -no-reboot behaviour: a guest reset ends QEMU. */
  private forbidGuestReboot(): void {
    this.firmwareReboot = 'off';
    if (!this.qmp.closed) this.qmp.execute('set-action', { reboot: 'shutdown' }).catch(() => {});
  }

  private async commandUntil(command: string, event: string, reached: (s: QemuStatus) => boolean): Promise<void> {
    const stopWaiting = new AbortController();
    const ev = this.qmp.waitForEvent(event, undefined, this.opTimeoutMs, stopWaiting.signal);
    ev.catch(() => {});
    try {
      await this.qmp.execute(command);
      if (reached(await this.status())) return;
      await ev;
    } finally {
      stopWaiting.abort();
    }
  }
}

/** The promise's value if it settles within `ms`, else undefined. */
export async function settleWithin<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
