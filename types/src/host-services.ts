/**
 * Services the main thread offers to the workers of a run: what must be shared
 * by every file (the memory/CPU pool, the image cache, the list of live QEMU
 * processes so nothing outlives a killed worker). In a worker they are called
 * over the task's MessagePort (`host_call` / `host_reply`); in-process runs
 * (tests, tooling) use a direct implementation of the same interface.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Resources } from './resources.js';

/** A profile ready to boot: everything a VM needs from it. */
/** Profiles every project has without defining them: the busybox guest and the Debian guest (see docs/guest-image.md). */
export const BUILTIN_PROFILES = ['default', 'debian'] as const;

export interface PreparedProfile {
  name: string;
  /** Absolute paths. */
  kernel: string;
  initrd: string;
  cmdline: string;
  /** Bytes. */
  memory: number;
  cpus: number;
  /** The root disk every VM of the profile runs on, through a copy-on-write overlay of its own (the image is never written). */
  disk?: { path: string; format: 'raw' | 'qcow2'; sha256: string };
  /**
   * The same kernel as a bzImage, which VMs created with `kernel_format = "bzimage"` boot (S3 resume needs it:
   * docs/vms.md): the built-in images keep one beside their PVH vmlinux; a provium.toml profile has it when its kernel is a bzImage.
   */
  bzImage?: string;
  /**
   * Words added to the kernel command line when QEMU emulates the CPU (TCG),
   * not under KVM: the built-in debian guest's `norandmaps` (@provium/image
   * DEBIAN_TCG_CMDLINE says why).
   */
  tcgCmdline?: string;
  /** sha256 over the kernel's and the initrd's content, the cmdline (with tcgCmdline) and the root disk's content (fixture cache keys cover it). */
  identity: string;
}

/** A snapshot unpacked for restoring (see @provium/qemu snapshot.ts): shared by every restore of the run. */
export interface SnapshotTemplateInfo {
  /** The snapshot's header, as @provium/qemu reads it. */
  header: { id: string; engine: 'shared-ram' | 'stream'; machine: { memoryMiB: number; cpus: number }; vm: Record<string, unknown> };
  state: string;
  ram?: string;
  /** Where the snapshot is relative to the fixture cache directory, when it is a cache entry's: a fixture built on it is stored over it. */
  ref?: string;
  /** Each disk's unpacked layer (`file`), with what the snapshot says of it: never written. */
  disks?: { id: string; serial?: string; slot: number; readOnly?: boolean; kind: 'raw' | 'root-delta'; mediated?: boolean; file: string }[];
}

/** A fixture ready to resume: the cache entry (`<key>.snap` file or `<key>.lab/` directory). */
export interface FixtureEntry {
  name: string;
  kind: 'vm' | 'lab';
  path: string;
}

export interface HostServices {
  /** Builds (once per run, in the main thread) and resolves a profile of provium.toml or `default`. */
  prepareProfile(name: string): Promise<PreparedProfile>;
  /** Waits until `wants` fits in the shared pool; resolves with a lease id. `owner` names the VM or lab in messages. */
  acquire(owner: string, wants: Resources): Promise<number>;
  release(leaseId: number): Promise<void>;
  /** A QEMU process was started / has ended: the main thread kills every registered one on worker death and Ctrl-C. */
  qemuStarted(info: { pid: number; runDir: string; vm: string }): Promise<void>;
  qemuEnded(pid: number): Promise<void>;
  /** Unpacks a snapshot file once per run into a RAM template and a device-state file. */
  snapshotTemplate(path: string): Promise<SnapshotTemplateInfo>;
  /** The cached fixture `name`, built first (once per run, across processes) when missing. */
  fixture(name: string, kind: 'vm' | 'lab'): Promise<FixtureEntry>;
  /** The fixtures test file `file` (absolute) resumes by a literal name that the cache holds already (never built): spares of them are made as the file starts. */
  cachedFixtures(file: string): Promise<FixtureEntry[]>;
  /** Connects `port` (transferred) to the run's network thread, where the switches of the file's bridges run. */
  netConnect(port: MessagePort): Promise<void>;
  /** Connects `port` to the run's disk thread (mediated disks), started on first use. */
  diskConnect(port: MessagePort): Promise<void>;
}

export type HostCall = {
  [K in keyof HostServices]: { method: K; args: Parameters<HostServices[K]> };
}[keyof HostServices];

/** Main thread → worker, on the task's port. */
export type HostMessage = { kind: 'host_reply'; id: number; ok: true; value: unknown } | { kind: 'host_reply'; id: number; ok: false; error: string };
