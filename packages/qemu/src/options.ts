import { accessSync, constants, statSync } from 'node:fs';
import { DISK_FIRST_SLOT, DISK_LAST_SLOT, DISK_SERIAL, type DiskAttachment } from './disks.js';
import type { Accel } from './host.js';

export interface LaunchOptions {
  /** VM name: shown in errors, in `ps` (process=provium:<name>) and in the run dir name. */
  name: string;
  memoryMiB: number;
  /** Default 1. */
  cpus?: number;
  /** Without a kernel SeaBIOS runs and finds nothing to boot (or boots a disk from extraArgs). */
  kernel?: string;
  initrd?: string;
  append?: string;
  /** Default: detectAccel(). */
  accel?: Accel;
  /**
   * Guest RAM file. Default: a new file on /dev/shm when it has room, else
   * `<run dir>/ram`, mapped shared; deleted with the run dir. A given `path`
   * belongs to the caller and is never deleted (restore from a template RAM
   * file with `share: false`: the guest's writes stay private). `initialFrom`:
   * the default (owned) RAM file starts as a sparse copy of this file.
   */
  ram?: { path?: string; share?: boolean; initialFrom?: string };
  /**
   * Start with `-incoming defer` (then `migrate-incoming` over QMP). `{ state }`
   * also hands that device-state file to QEMU as an open file (INCOMING_FD),
   * so loadState reads it without a helper process.
   */
  incoming?: true | { state: string };
  /** Start with the vCPUs stopped (`-S`); resume() starts them. */
  startPaused?: boolean;
  /** Virtio disks in the guest's order (vda, vdb, ...): image files the caller owns. */
  disks?: readonly DiskAttachment[];
  /**
   * Instead of `disks`: makes the disks' images in the run dir before QEMU
   * starts, so they go with it (a spare restored ahead of time, whose images
   * no VM owns yet). A failure removes the run dir and fails the launch.
   */
  makeDisks?: (runDir: string) => Promise<DiskAttachment[]>;
  /** Extra QEMU arguments (netdevs, NICs, drives), appended to the launch line. */
  extraArgs?: readonly string[];
  /** Parent of the run dir. Default: defaultRuntimeRoot(). */
  runtimeRoot?: string;
  /** Leave the run dir (sockets, logs, RAM file) after QEMU exits, until this provium process is gone. */
  keep?: boolean;
  /** Copy console.log (and QEMU's stderr log, if not empty) here as `<name>.console.log` / `<name>.qemu.log` when QEMU exits. */
  artifactsDir?: string;
  /** Default qemu-system-x86_64 from PATH. */
  qemuBinary?: string;
  /** Until QEMU has connected QMP and console and answered the handshake. Default 30 s. */
  launchTimeoutMs?: number;
  /**
   * Start QEMU (every thread it makes) with this nice value, for work done
   * ahead of time that must yield the CPU to VMs in use; QemuProcess.renice()
   * sets it back. Lowering it again needs root (CAP_SYS_NICE).
   */
  nice?: number;
  /**
   * Called once QEMU's process exists, before it is ready (its machine set-up
   * takes a while under TCG): lets the caller set its priority back at once
   * when work started at `nice` is wanted now.
   */
  onSpawn?: (started: { pid: number; renice(value: number): void }) => void;
  /** Per QMP command and per awaited event. Default 30 s. */
  opTimeoutMs?: number;
  /** Console lines carried by exit errors. Default 20. */
  consoleTailLines?: number;
}

export const MiB = 1024 * 1024;

/** Throws naming the VM, the option and the value at fault. */
export function validate(opts: LaunchOptions): void {
  if (typeof opts.name !== 'string' || opts.name === '') throw new Error(`launchQemu: name must be a non-empty string, got ${JSON.stringify(opts.name)}`);
  const where = `launchQemu (VM "${opts.name}")`;
  if (opts.nice !== undefined && (!Number.isInteger(opts.nice) || opts.nice < -20 || opts.nice > 19)) {
    throw new Error(`${where}: nice must be an integer from -20 to 19, got ${JSON.stringify(opts.nice)}`);
  }
  if (!Number.isInteger(opts.memoryMiB) || opts.memoryMiB < 16) {
    throw new Error(`${where}: memoryMiB must be an integer >= 16, got ${opts.memoryMiB}`);
  }
  if (opts.cpus !== undefined && (!Number.isInteger(opts.cpus) || opts.cpus < 1 || opts.cpus > 255)) {
    throw new Error(`${where}: cpus must be an integer from 1 to 255, got ${opts.cpus}`);
  }
  if ((opts.initrd || opts.append) && !opts.kernel) throw new Error(`${where}: initrd and append need a kernel`);
  for (const [what, file] of [['kernel', opts.kernel], ['initrd', opts.initrd]] as const) {
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new Error(`${where}: ${what} file ${file} does not exist or is not readable`);
    }
  }
  if (opts.ram?.path) {
    let size: number | undefined;
    try {
      size = statSync(opts.ram.path).size;
    } catch {
      if (opts.ram.share === false) throw new Error(`${where}: RAM file ${opts.ram.path} does not exist (share=false maps an existing template)`);
    }
    if (size !== undefined && size !== opts.memoryMiB * MiB) {
      throw new Error(`${where}: RAM file ${opts.ram.path} holds ${size} bytes but the VM has ${opts.memoryMiB} MiB (${opts.memoryMiB * MiB} bytes)`);
    }
  }
  if (opts.ram?.initialFrom && opts.ram.path) throw new Error(`${where}: ram.initialFrom copies into the VM's own RAM file: do not give ram.path with it`);
  const slots = new Set<number>();
  for (const d of opts.disks ?? []) {
    if (d.serial !== undefined && !DISK_SERIAL.test(d.serial)) throw new Error(`${where}: disk "${d.id}": serial ${JSON.stringify(d.serial)} must be 1 to 20 letters, digits, ".", "-" or "_"`);
    if (!Number.isInteger(d.slot) || d.slot < DISK_FIRST_SLOT || d.slot > DISK_LAST_SLOT) throw new Error(`${where}: disk "${d.id}": PCI slot must be from ${DISK_FIRST_SLOT} to ${DISK_LAST_SLOT}, got ${d.slot}`);
    if (slots.has(d.slot)) throw new Error(`${where}: two disks are in PCI slot ${d.slot}`);
    slots.add(d.slot);
    if (d.nbd) continue; // its server opened the image
    try {
      accessSync(d.file, d.readOnly ? constants.R_OK : constants.R_OK | constants.W_OK);
    } catch {
      throw new Error(`${where}: disk "${d.id}": image ${d.file} does not exist or is not ${d.readOnly ? 'readable' : 'writable'}`);
    }
  }
  if (opts.extraArgs && !opts.extraArgs.every((a) => typeof a === 'string')) {
    throw new Error(`${where}: extraArgs must be strings, got ${JSON.stringify(opts.extraArgs)}`);
  }
}
