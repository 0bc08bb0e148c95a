/**
 * A VM's disks: image files that QEMU opens and the guest sees as virtio
 * block devices, and the qemu-img work around them (formats, fresh images,
 * copy-on-write overlays, flattening). Errors name the disk and the file.
 */
import { execFile } from 'node:child_process';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import { findExecutable } from './host.js';
import type { QemuProcess } from './process.js';

export type DiskFormat = 'raw' | 'qcow2';

/** One disk on the launch line. */
export interface DiskAttachment {
  /** The author's id, for messages. */
  id: string;
  /** What the guest reads as the disk's serial (`/sys/block/vdX/serial`), at most 20 bytes. */
  serial?: string;
  /** The image QEMU opens and writes (a VM's own image: never a base image or a cache entry). */
  file: string;
  format: DiskFormat;
  readOnly?: boolean;
  /** Served by Provium's NBD server on this socket (a mediated disk) instead of QEMU opening `file` itself. */
  nbd?: { socket: string; export: string };
  /** Set when `file` is a qcow2 overlay of a profile's root image: a snapshot stores only what the VM wrote over it. */
  base?: { path: string; format: DiskFormat };
  /**
   * PCI slot on pci.0: fixed, so a hot-plugged disk sits where a restore's
   * launch line puts it (the device state must find every device where it was).
   */
  slot: number;
}

/** PCI slots for disks, below the lab NICs' (0x10-0x1f); QEMU's own devices take 0-3. */
export const DISK_FIRST_SLOT = 0x04;
export const DISK_LAST_SLOT = 0x0f;

/** virtio-blk serials hold at most 20 bytes; a strict alphabet keeps them one QEMU option value. */
export const DISK_SERIAL = /^[A-Za-z0-9_.-]{1,20}$/;

/** QEMU's names of the disk in `slot`: unique in the VM and the same in every run. */
export function diskIds(slot: number): { drive: string; device: string } {
  const hex = slot.toString(16).padStart(2, '0');
  return { drive: `drive-${hex}`, device: `disk-${hex}` };
}

/** QEMU option values separate keys with ',': a literal comma is written ',,'. */
const opt = (value: string) => value.replaceAll(',', ',,');

/** `-drive` and `-device` of one disk. Device order on the line is the guest's order: vda, vdb, ... */
export function diskArgs(d: DiskAttachment): string[] {
  const ids = diskIds(d.slot);
  const ro = d.readOnly ? ',read-only=on' : '';
  return [
    ...(d.nbd
      ? ['-blockdev', `driver=nbd,server.type=unix,server.path=${opt(d.nbd.socket)},export=${opt(d.nbd.export)},node-name=${ids.drive}${ro}`]
      : ['-drive', `file=${opt(d.file)},format=${d.format},if=none,id=${ids.drive},cache=writeback,discard=unmap${ro}`]),
    '-device', `virtio-blk-pci,drive=${ids.drive},id=${ids.device}${d.serial ? `,serial=${d.serial}` : ''},bus=pci.0,addr=0x${d.slot.toString(16)}`,
  ];
}

/** Hot-plugs a disk into a running QEMU; it then belongs to its machine (a snapshot records it). */
export async function plugDisk(qemu: QemuProcess, d: DiskAttachment): Promise<void> {
  const ids = diskIds(d.slot);
  const source = d.nbd
    ? { driver: 'nbd', server: { type: 'unix', path: d.nbd.socket }, export: d.nbd.export }
    : { driver: d.format, discard: 'unmap', file: { driver: 'file', filename: d.file } };
  await qemu.qmp.execute('blockdev-add', { ...source, 'node-name': ids.drive, 'read-only': d.readOnly === true });
  try {
    await qemu.qmp.execute('device_add', {
      driver: 'virtio-blk-pci', drive: ids.drive, id: ids.device, bus: 'pci.0', addr: `0x${d.slot.toString(16)}`, ...(d.serial ? { serial: d.serial } : {}),
    });
  } catch (e) {
    await qemu.qmp.execute('blockdev-del', { 'node-name': ids.drive }).catch(() => {});
    throw e;
  }
  qemu.machine.disks.push(d);
}

/**
 * Unplugs a disk: the guest is asked to let go of it (ACPI hot-unplug) and
 * QEMU closes its image once the guest has. Resolves when it is gone.
 */
export async function unplugDisk(qemu: QemuProcess, slot: number, timeoutMs: number): Promise<void> {
  const ids = diskIds(slot);
  const gone = qemu.qmp.waitForEvent('DEVICE_DELETED', (ev) => ev.data.device === ids.device, timeoutMs);
  gone.catch(() => {});
  await qemu.qmp.execute('device_del', { id: ids.device });
  await gone;
  // A disk of the launch line went with its device; a hot-plugged one is a node of its own.
  await qemu.qmp.execute('blockdev-del', { 'node-name': ids.drive }).catch(() => {});
  const i = qemu.machine.disks.findIndex((d) => d.slot === slot);
  if (i >= 0) qemu.machine.disks.splice(i, 1);
}

async function qemuImg(args: string[], what: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(findExecutable('qemu-img'), args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string; code?: string };
    if (err.code === 'ENOENT') throw new Error(`${what}: qemu-img is missing (Debian package qemu-utils; scripts/setup.sh installs it)`);
    throw new Error(`${what}: ${(err.stderr || err.message).trim()}`);
  }
}

export interface ImageInfo {
  format: DiskFormat;
  /** Bytes the guest sees. */
  virtualSize: number;
  /** The backing file of a qcow2 image, as written in it. */
  backing?: string;
}

/** What qemu-img reads from an image (`-U`: also while a QEMU has it open). Other formats are refused. */
export async function imageInfo(path: string, what = `image ${path}`): Promise<ImageInfo> {
  const info = JSON.parse(await qemuImg(['info', '-U', '--output=json', path], what)) as { format: string; 'virtual-size': number; 'backing-filename'?: string };
  if (info.format !== 'raw' && info.format !== 'qcow2') throw new Error(`${what}: format ${info.format} is not supported; convert it to raw or qcow2 (qemu-img convert -O qcow2)`);
  return { format: info.format, virtualSize: info['virtual-size'], ...(info['backing-filename'] ? { backing: info['backing-filename'] } : {}) };
}

/** A new raw image of `size` bytes, all holes. */
export function createRawImage(path: string, size: number): void {
  const fd = openSync(path, 'wx');
  try {
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

/** A new qcow2 image whose unwritten clusters read from `backing` (absolute path), which it never writes. */
export async function createOverlay(path: string, backing: string, backingFormat: DiskFormat, what: string): Promise<void> {
  await qemuImg(['create', '-q', '-f', 'qcow2', '-F', backingFormat, '-b', backing, path], what);
}

/** Points a qcow2 image at another copy of the same backing content (no data is read or copied). */
export async function rebaseUnsafe(path: string, backing: string, backingFormat: DiskFormat, what: string): Promise<void> {
  await qemuImg(['rebase', '-u', '-f', 'qcow2', '-F', backingFormat, '-b', backing, path], what);
}

/**
 * Makes qcow2 `path` stand on `backing` alone: every cluster its current
 * chain holds differently from `backing` is copied into it. The chain must
 * stay readable while this runs.
 */
export async function rebaseOnto(path: string, backing: string, backingFormat: DiskFormat, what: string): Promise<void> {
  await qemuImg(['rebase', '-f', 'qcow2', '-F', backingFormat, '-b', backing, path], what);
}

/** The whole content of an image (chain) as a raw, sparse file. */
export async function convertToRaw(src: string, dst: string, what: string): Promise<void> {
  await qemuImg(['convert', '-U', '-O', 'raw', src, dst], what);
}
