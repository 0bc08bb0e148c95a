/**
 * The restore path of a VM up to a running QEMU: what the snapshot says the
 * VM was launched with (checked against this run's profile), and the QEMU
 * itself, a spare's or one started with the VM's disk images. session.ts
 * takes the result over (its agent, clock and network); values only here.
 */
import type { QemuProcess, RestoreLaunchOptions, RestoreMode, SnapshotBase, SnapshotTemplate } from '@provium/qemu';
import type { HostServices, PreparedProfile, SnapshotTemplateInfo } from '@provium/types';
import type { VmDisks } from './disk-set.js';
import type { FileNetwork, NetVm } from './network.js';
import { restoreSpareMaker } from './restore-spares.js';
import { primeSpare, spareKey, startSpare, takeSpare, type Spare } from './spares.js';
import { traced } from './trace.js';
import { type KernelFormat, restoreKernel, restoreLaunchOptions } from './kernel-format.js';

const MiB = 1024 * 1024;

/** What a running QEMU was started with: a snapshot records it so a restore can match it. */
export interface Launched {
  name: string;
  profile: string;
  identity: string;
  append: string;
  memory: number;
  cpus: number;
  kernelFormat: KernelFormat;
}

/** A snapshot's record of its VM, as its header holds it (written by VmSession.snapshot). */
interface SnapshotVm {
  profile: string;
  identity?: string;
  append: string;
  kernelFormat?: unknown;
  nics?: unknown;
  guestNet?: unknown;
}

/** A snapshot checked for a restore in this run: its VM record, the profile it names and the machine. */
export interface RestoreRecord {
  vm: SnapshotVm;
  profile: PreparedProfile;
  memory: number;
  cpus: number;
}

/** Reads and checks what `snap` says of its VM: refused when it names no profile or another kernel than this run's. */
export async function restoreRecord(label: string, snap: SnapshotTemplateInfo, host: HostServices): Promise<RestoreRecord> {
  const vm = snap.header.vm as Partial<SnapshotVm>;
  if (typeof vm.profile !== 'string' || typeof vm.append !== 'string') throw new Error(`${label}: the snapshot does not say which profile it was taken with; take it again`);
  const profile = await host.prepareProfile(vm.profile);
  if (profile.identity !== vm.identity) {
    throw new Error(`${label}: the snapshot was taken with another kernel, initrd, command line or root disk of profile "${vm.profile}" than this run has: take it again (or rebuild the fixture)`);
  }
  return { vm: vm as SnapshotVm, profile, memory: snap.header.machine.memoryMiB * MiB, cpus: snap.header.machine.cpus };
}

/** A restore's QEMU, started (and still to be loaded unless it is a spare's), with what the session keeps of it. */
export interface StartedRestore {
  qemu: QemuProcess;
  template: SnapshotTemplate;
  /** The spare it came from: loaded, its agent connected, paused. */
  spare?: Spare;
  launched: Launched;
  /** The fixture cache entry restored from, which a fixture built on it is stored over. */
  base?: SnapshotBase;
  /** Makes the spare for this restore's next one (spares.ts), when spares are kept for it. */
  nextSpare?: () => void;
}

/** The VM a restore starts a QEMU for: its names, disks and place on the file's network. */
export interface RestoringVm extends NetVm {
  readonly name: string;
  readonly label: string;
  readonly disks: VmDisks;
}

/**
 * Starts the QEMU of restoring `snap` into `vm`: `ready` (a lab spare's), a
 * spare of this worker when one matches (`spares`), else a new one on disk
 * images made for the VM.
 */
export async function startRestore(vm: RestoringVm, record: RestoreRecord, snap: SnapshotTemplateInfo, mode: RestoreMode, net: FileNetwork, timeoutMs: number, ready: Spare | undefined, spares: boolean): Promise<StartedRestore> {
  const { profile } = record;
  const { launchForRestore } = await import('@provium/qemu');
  const template = templateOf(snap);
  const layers = snap.disks ?? [];
  // A VM of a lab restored ahead runs on that lab's switches already, which the file's network has adopted.
  const extraArgs = ready ? [] : await net.restoreArgs(vm, record.vm.nics, record.vm.guestNet, vm.label);
  const spec = spareSpec(vm.name, vm.label, record, snap, mode, extraArgs, timeoutMs);
  // A spare makes its disks' images itself; a mediated disk needs this file's disk thread.
  const key = spares && !ready && !layers.some((l) => l.mediated) ? spec.key : undefined;
  const spare = ready ?? (key ? await traced('take spare', vm.name, () => takeSpare(key)) : undefined);
  if (spare?.disks) await vm.disks.adopt(spare.disks);
  const disks = spare?.disks?.map((d) => d.attachment) ?? (await traced('disks', vm.name, () => vm.disks.fromSnapshot(layers, profile.disk)));
  const launched: Launched = {
    name: vm.name, profile: record.vm.profile, identity: profile.identity, append: record.vm.append, memory: record.memory, cpus: record.cpus, kernelFormat: restoreKernel(profile, record.vm, vm.label).format,
  };
  const qemu = spare?.qemu ?? (await traced('qemu start', vm.name, () => launchForRestore(template, { ...spec.opts, disks }, mode)));
  const rootLayers = Object.fromEntries(layers.filter((d) => d.kind === 'root-delta').map((d) => [d.slot, d.file]));
  return {
    qemu,
    template,
    ...(spare ? { spare } : {}),
    launched,
    ...(snap.ref ? { base: { ref: snap.ref, id: snap.header.id, ...(snap.ram ? { ram: snap.ram } : {}), layers: rootLayers } } : {}),
    ...(key ? { nextSpare: () => startSpare(key, spec.make()) } : {}),
  };
}

function templateOf(snap: SnapshotTemplateInfo): SnapshotTemplate {
  return { header: snap.header as never, state: snap.state, ...(snap.ram ? { ram: snap.ram } : {}) };
}

/**
 * A restore's launch line without disks, the key of the spares that serve it
 * and their maker: one place, so that a spare primed ahead (primeRestoreSpare)
 * has the key its restore looks for.
 */
function spareSpec(name: string, label: string, record: RestoreRecord, snap: SnapshotTemplateInfo, mode: RestoreMode, extraArgs: string[], timeoutMs: number) {
  const template = templateOf(snap);
  const opts: RestoreLaunchOptions = restoreLaunchOptions(name, record.profile, { append: record.vm.append, kernelFormat: record.vm.kernelFormat }, [], extraArgs);
  return { opts, key: spareKey(template, opts, mode), make: () => restoreSpareMaker(label, timeoutMs, template, opts, mode, snap.disks ?? [], record.profile.disk) };
}

/**
 * Starts a spare of `snap` for VM `name` (spares.ts) unless one is being
 * made already: one its restore in this worker would take, that is, RAM
 * mapped privately, no NIC recorded (a network's arguments are fresh for
 * every restore) and no mediated disk.
 */
export function primeRestoreSpare(name: string, record: RestoreRecord, snap: SnapshotTemplateInfo, timeoutMs: number): void {
  const { nics } = record.vm;
  if ((nics !== undefined && !(Array.isArray(nics) && nics.length === 0)) || (snap.disks ?? []).some((l) => l.mediated)) return;
  const { key, make } = spareSpec(name, `vm "${name}"`, record, snap, 'private', [], timeoutMs);
  if (key) primeSpare(key, make());
}
