/**
 * The disks of one VM: the images it gets at boot (root overlay, boot disks,
 * disks attached while it was created), disks hot-plugged later, and the
 * directory of its own images.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { DiskClient } from '@provium/disk';
import type { DiskAttachment, QemuProcess } from '@provium/qemu';
import type { PreparedProfile, SnapshotTemplateInfo } from '@provium/types';
import { checkCopyFits, DiskHandle, growCopy, makeDiskDir, sourceOf, type DiskSpec } from './disks.js';

/** The profile's root disk is always this id, first, /dev/vda. */
export const ROOT_DISK_ID = 'root';

const qemu = () => import('@provium/qemu');

export class VmDisks {
  readonly handles = new Map<string, DiskHandle>();
  /** `vm:attach_disk` before boot: made at boot, after the boot disks. */
  private readonly beforeBoot: { spec: DiskSpec; id: string }[] = [];
  /** Ids of disks detached before the boot that would have made them. */
  private readonly detachedBeforeBoot = new Set<string>();
  private dir: ReturnType<typeof makeDiskDir> | undefined;
  /** Files made in `dir` so far, to name the next one. */
  private made = 0;

  constructor(
    /** `VM "a"`, for messages. */
    private readonly owner: string,
    private readonly vmName: string,
    /** The file's client of the disk thread (mediated disks). */
    private readonly mediator: () => Promise<DiskClient>,
  ) {}

  /** The handle of `id`; an unknown id is an error naming the known ones. */
  get(id: string): DiskHandle {
    const d = this.handles.get(id);
    if (d) return d;
    const pending = this.beforeBoot.some((p) => p.id === id);
    if (pending) throw new Error(`${this.owner}: disk "${id}" is attached at boot; boot the VM first`);
    if (this.detachedBeforeBoot.has(id)) throw new Error(`${this.owner}: disk "${id}" is detached`);
    const known = [...this.handles.keys()];
    throw new Error(`${this.owner} has no disk "${id}"${known.length ? ` (its disks: ${known.join(', ')})` : ' (it has no disks)'}`);
  }

  private takenIds(): Set<string> {
    return new Set([...this.handles.keys(), ...this.beforeBoot.map((p) => p.id)]);
  }

  private checkId(id: string, label: string): void {
    if (id === '') throw new Error(`${label}: a disk id must not be empty`);
    if (this.takenIds().has(id)) throw new Error(`${label}: ${this.owner} already has a disk "${id}"; give another id`);
  }

  /** `vm:attach_disk` on a created VM: checked now, made at boot. */
  async attachAtBoot(spec: DiskSpec): Promise<string> {
    const id = spec.id ?? `attached-${this.vmName}`;
    const label = `${this.owner}: attach_disk "${id}"`;
    this.checkId(id, label);
    await this.checkCopy(spec, label);
    this.beforeBoot.push({ spec, id });
    this.detachedBeforeBoot.delete(id);
    return id;
  }

  /** The boot disks checked (ids, sources, the size of each `{image=, size=}`) without making anything: a bad spec leaves the VM as it was. */
  async checkBoot(hasRootDisk: boolean, specs: readonly DiskSpec[]): Promise<void> {
    for (const { spec, id } of this.bootDisks(hasRootDisk, specs)) await this.checkCopy(spec, `${this.owner}: disk "${id}"`);
  }

  /** The source of a spec; for `{image=, size=}`, checked against the image's size (qemu-img: a qcow2 image's is the disk it holds). */
  private async checkCopy(spec: DiskSpec, label: string): Promise<void> {
    const source = sourceOf(spec, label);
    if (source.origin !== 'template' || source.size === undefined) return;
    const { imageInfo } = await qemu();
    checkCopyFits((await imageInfo(source.file, `${label}: image ${source.file}`)).virtualSize, source.file, source.size, label);
  }

  /** The boot disks with their ids, checked (ids, sources). */
  private bootDisks(hasRootDisk: boolean, specs: readonly DiskSpec[]): { spec: DiskSpec; id: string }[] {
    const all = specs.map((spec, i) => ({ spec, id: spec.id ?? `boot${i}` }));
    for (const [i, { id }] of all.entries()) {
      if (id === ROOT_DISK_ID && hasRootDisk) throw new Error(`${this.owner}: boot disk ${i + 1} has the id "${ROOT_DISK_ID}", which the profile's root disk uses`);
      if (all.findIndex((x) => x.id === id) !== i || this.beforeBoot.some((p) => p.id === id)) throw new Error(`${this.owner}: two disks have the id "${id}"`);
      sourceOf(all[i].spec, `${this.owner}: disk "${id}"`);
    }
    return all;
  }

  /** Every disk of a boot, in the guest's order: root (vda), the boot disks, those attached before boot. */
  async forBoot(profileDisk: PreparedProfile['disk'], specs: readonly DiskSpec[]): Promise<DiskAttachment[]> {
    const all = this.bootDisks(profileDisk !== undefined, specs);
    const { DISK_FIRST_SLOT } = await qemu();
    let slot = DISK_FIRST_SLOT;
    if (profileDisk) await this.addRoot(profileDisk, slot++);
    for (const { spec, id } of [...all, ...this.beforeBoot]) await this.make(spec, id, slot++);
    this.beforeBoot.length = 0;
    return [...this.handles.values()].map((d) => d.attachment);
  }

  /** `vm:attach_disk` on a running VM: a new image, hot-plugged into the next free slot. */
  async hotPlug(spec: DiskSpec, q: QemuProcess): Promise<DiskHandle> {
    const id = spec.id ?? `attached-${this.vmName}`;
    const label = `${this.owner}: attach_disk "${id}"`;
    this.checkId(id, label);
    await this.checkCopy(spec, label);
    const { DISK_FIRST_SLOT, DISK_LAST_SLOT, plugDisk } = await qemu();
    const used = new Set(q.machine.disks.map((d) => d.slot));
    let slot = DISK_FIRST_SLOT;
    while (used.has(slot)) slot++;
    if (slot > DISK_LAST_SLOT) throw new Error(`${label}: the VM has ${used.size} disks, the most it can have`);
    const handle = await this.make(spec, id, slot);
    try {
      await plugDisk(q, handle.attachment);
    } catch (e) {
      this.handles.delete(id);
      await handle.mediated?.stop().catch(() => {});
      if (handle.origin !== 'path') rmSync(handle.attachment.file, { force: true });
      throw new Error(`${label}: QEMU refused the disk: ${(e as Error).message}`);
    }
    return handle;
  }

  private ownDir(): string {
    this.dir ??= makeDiskDir(this.vmName);
    return this.dir.dir;
  }

  private async addRoot(disk: NonNullable<PreparedProfile['disk']>, slot: number): Promise<void> {
    const { createOverlay, imageInfo } = await qemu();
    const file = path.join(this.ownDir(), 'root.qcow2');
    const label = `${this.owner}: root disk`;
    await createOverlay(file, disk.path, disk.format, label);
    const { virtualSize } = await imageInfo(file, label);
    const attachment: DiskAttachment = { id: ROOT_DISK_ID, serial: ROOT_DISK_ID, file, format: 'qcow2', slot, base: { path: disk.path, format: disk.format } };
    this.handles.set(ROOT_DISK_ID, new DiskHandle(this.owner, attachment, 'root', virtualSize));
  }

  /** The image of one disk: a fresh one (scratch), a private copy (template) or the host's own (path). */
  private async make(spec: DiskSpec, id: string, slot: number): Promise<DiskHandle> {
    const label = `${this.owner}: disk "${id}"`;
    const source = sourceOf(spec, label);
    const { DISK_SERIAL, convertToRaw, createRawImage, imageInfo } = await qemu();
    let attachment: DiskAttachment;
    let virtualSize: number;
    const common = { id, slot, readOnly: spec.readonly === true, ...(DISK_SERIAL.test(id) ? { serial: id } : {}) };
    if (source.origin === 'scratch') {
      const file = this.ownFile(`disk-${slot}`, 'raw');
      createRawImage(file, source.size);
      attachment = { ...common, file, format: 'raw' };
      virtualSize = source.size;
    } else if (source.origin === 'template') {
      const file = this.ownFile(`disk-${slot}`, 'raw');
      await convertToRaw(source.file, file, `${label}: template ${source.file}`);
      attachment = { ...common, file, format: 'raw' };
      virtualSize = source.size === undefined ? (await imageInfo(file, label)).virtualSize : growCopy(file, source.file, source.size, label);
    } else {
      const info = await imageInfo(source.file, `${label}: path ${source.file}`);
      attachment = { ...common, file: source.file, format: info.format };
      virtualSize = info.virtualSize;
    }
    const handle = new DiskHandle(this.owner, attachment, source.origin, virtualSize);
    if (spec.mediated) await this.mediate(handle, label);
    this.handles.set(id, handle);
    this.detachedBeforeBoot.delete(id);
    return handle;
  }

  /** A new file name in the VM's own directory: a slot freed by a detach is taken again by a disk of its own. */
  private ownFile(stem: string, ext: string): string {
    return path.join(this.ownDir(), `${stem}-${this.made++}.${ext}`);
  }

  /** Puts Provium's NBD server between QEMU and the disk's (raw) image. */
  private async mediate(handle: DiskHandle, label: string): Promise<void> {
    const a = handle.attachment;
    if (a.format !== 'raw') throw new Error(`${label}: a mediated disk needs a raw image; ${a.file} is ${a.format} (use template = it, which makes a raw copy)`);
    const socket = this.ownFile(`nbd-${a.slot}`, 'sock');
    handle.mediated = await (await this.mediator()).start(a.file, socket, { name: a.id });
    a.nbd = { socket, export: handle.mediated.name };
  }

  /**
   * The disks of a restore: images of this VM's own over the snapshot's
   * unpacked layers (restoreImages), in the snapshot's slots. The VM's
   * previous disks are gone.
   */
  async fromSnapshot(layers: NonNullable<SnapshotTemplateInfo['disks']>, profileDisk: PreparedProfile['disk']): Promise<DiskAttachment[]> {
    await this.reset();
    const handles = await restoreImages(this.owner, layers, profileDisk, this.ownDir());
    for (const [i, l] of layers.entries()) {
      this.handles.set(l.id, handles[i]);
      if (l.mediated) await this.mediate(handles[i], `${this.owner}: disk "${l.id}" of the snapshot`);
    }
    return handles.map((d) => d.attachment);
  }

  /** The disks of a restore made ahead of time (a spare): its images, in its QEMU's run dir, become this VM's. */
  async adopt(handles: readonly DiskHandle[]): Promise<void> {
    await this.reset();
    for (const h of handles) this.handles.set(h.attachment.id, h);
  }

  private async reset(): Promise<void> {
    await this.dispose();
    this.handles.clear();
    this.beforeBoot.length = 0;
    this.detachedBeforeBoot.clear();
  }

  /** `disk:is_detached()`. */
  isDetached(id: string): boolean {
    return this.handles.get(id)?.detached === true || this.detachedBeforeBoot.has(id);
  }

  /** `disk:detach()`: unplugged from a running VM (best effort), and its sector calls refuse. */
  async detach(id: string, q: QemuProcess | undefined, timeoutMs: number): Promise<void> {
    const pending = this.beforeBoot.findIndex((p) => p.id === id);
    if (pending >= 0) {
      this.beforeBoot.splice(pending, 1);
      this.detachedBeforeBoot.add(id);
    }
    const d = this.handles.get(id);
    if (!d || d.detached) return;
    d.detached = true;
    if (q && q.exit === undefined && q.machine.disks.some((x) => x.slot === d.attachment.slot)) {
      const unplugged = await (await qemu()).unplugDisk(q, d.attachment.slot, timeoutMs).then(() => true, () => false);
      // Once QEMU has let go of it, a mediated disk's server ends (its writes committed) rather than idling until the VM does.
      if (unplugged) await d.mediated?.stop().catch(() => {});
    }
  }

  /** The VM is gone: its mediated disks stop (what the guest wrote committed), its own images go (a `path` disk is the host's and stays). */
  async dispose(): Promise<void> {
    await Promise.all([...this.handles.values()].map((d) => d.mediated?.stop().catch(() => {})));
    this.dir?.dispose();
    this.dir = undefined;
  }
}

/**
 * Images of a restore over a snapshot's unpacked layers, in `dir`: a sparse
 * copy of each raw layer, a fresh qcow2 overlay on each root layer (the
 * layers are never written). Not mediated: the caller serves those.
 */
export async function restoreImages(owner: string, layers: NonNullable<SnapshotTemplateInfo['disks']>, profileDisk: PreparedProfile['disk'], dir: string): Promise<DiskHandle[]> {
  const { copySparse, createOverlay, imageInfo } = await qemu();
  const handles: DiskHandle[] = [];
  for (const l of layers) {
    const label = `${owner}: disk "${l.id}" of the snapshot`;
    const common = { id: l.id, slot: l.slot, ...(l.serial ? { serial: l.serial } : {}), ...(l.readOnly ? { readOnly: true } : {}) };
    let attachment: DiskAttachment;
    if (l.kind === 'root-delta') {
      if (!profileDisk) throw new Error(`${label} stands on the profile's root disk, and the profile has none here`);
      const file = path.join(dir, `disk-${l.slot}.qcow2`);
      await createOverlay(file, l.file, 'qcow2', label);
      attachment = { ...common, file, format: 'qcow2', base: { path: profileDisk.path, format: profileDisk.format } };
    } else {
      const file = path.join(dir, `disk-${l.slot}.raw`);
      await copySparse(l.file, file);
      attachment = { ...common, file, format: 'raw' };
    }
    const { virtualSize } = await imageInfo(attachment.file, label);
    handles.push(new DiskHandle(owner, attachment, l.kind === 'root-delta' ? 'root' : 'snapshot', virtualSize));
  }
  return handles;
}
