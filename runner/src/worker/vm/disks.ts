/**
 * A VM's disks: the profile's root disk (a qcow2 overlay on the profile's
 * image, which is never written) and the disks the test adds at boot or hot:
 * `scratch` (a fresh raw image of that size), `template` (a private raw copy
 * of a host image, which is never written; grown to `size` when one is
 * given, as the original's `{image=, size=}`) and `path` (a host image used
 * in place). The VM's own images live in a directory of the VM, removed when
 * the VM ends. Free of Lua: the binding is api/disk.ts.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MediatedDisk, PolicyChange } from '@provium/disk';
import type { DiskAttachment } from '@provium/qemu';
import type { Lua } from '@provium/types';

const SECTOR = 512;

/** A disk as the author describes it (`vm:boot{disks=}`, `vm:attach_disk{}`): exactly one source. */
export type DiskSpec = Lua.DiskSpec;

export type DiskOrigin = 'root' | 'scratch' | 'template' | 'path' | 'snapshot';

export const FAULT_MODES = ['eio_read', 'eio_write', 'slow'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** Each test-side sector call waits this long under the `slow` fault. */
const SLOW_MS = 50;

/** One disk of a VM; its sector calls act on the image file directly. */
export class DiskHandle {
  detached = false;
  readonly faults = new Set<FaultMode>();
  /** The NBD server of a mediated disk. */
  mediated: MediatedDisk | undefined;

  constructor(
    /** `VM "a"`, for messages. */
    readonly owner: string,
    readonly attachment: DiskAttachment,
    readonly origin: DiskOrigin,
    /** Bytes the guest sees. */
    readonly virtualSize: number,
  ) {}

  get id(): string {
    return this.attachment.id;
  }

  private get label(): string {
    return `${this.owner}: disk "${this.id}"`;
  }

  /** `disk:fault_inject(mode)`: a host-side fault for the test's own sector calls. */
  injectFault(mode: string): void {
    if (!(FAULT_MODES as readonly string[]).includes(mode)) {
      throw new Error(`${this.label}: unknown fault mode "${mode}"; the modes are ${FAULT_MODES.map((m) => `"${m}"`).join(', ')}`);
    }
    this.faults.add(mode as FaultMode);
  }

  /** The NBD server of a mediated disk; on any other disk, the error that says how to get one. */
  requireMediated(): MediatedDisk {
    if (this.detached && this.mediated) throw new Error(`${this.label} is detached: its guest-visible policy ended with it`);
    if (!this.mediated) {
      throw new Error(`${this.label} is not mediated: guest-visible faults need a mediated disk; boot it with mediated = true (vm:boot{disks = {{..., mediated = true}}} or vm:attach_disk{..., mediated = true})`);
    }
    return this.mediated;
  }

  /**
   * A guest-visible fault rule (`disk:fail_after(n)`, ...). The value is
   * checked before the disk's kind, so a bad value is named as such on any disk.
   */
  async changePolicy(change: PolicyChange): Promise<void> {
    // Loaded here, not at the top: files without mediated disks start without the disk package.
    const { checkPolicyChange } = await import('@provium/disk');
    try {
      checkPolicyChange(change);
    } catch (e) {
      throw new Error(`${this.label}: ${(e as Error).message}`);
    }
    await this.requireMediated().change(change);
  }

  /** The image file's size in bytes (a qcow2 overlay: the disk the guest sees). */
  size(): number {
    if (this.attachment.format !== 'raw') return this.virtualSize;
    try {
      return statSync(this.attachment.file).size;
    } catch {
      return this.virtualSize;
    }
  }

  private async usable(op: 'read' | 'write'): Promise<number> {
    if (this.detached) throw new Error(`${this.label} is detached`);
    if (this.attachment.format !== 'raw') {
      throw new Error(`${this.label} is a qcow2 overlay of the profile's image: sector calls work on raw images (scratch, template and raw path disks)`);
    }
    if (this.faults.has('slow')) await new Promise((r) => setTimeout(r, SLOW_MS));
    if (this.faults.has(op === 'read' ? 'eio_read' : 'eio_write')) throw new Error(`${this.label}: EIO (fault_inject "eio_${op}")`);
    return openSync(this.attachment.file, op === 'read' ? 'r' : 'r+');
  }

  /** `count` sectors from `sector`; shorter at the end of the image. */
  async readSectors(sector: number, count: number): Promise<Buffer> {
    checkSectorArgs(this.label, sector, count);
    const fd = await this.usable('read');
    try {
      const start = sector * SECTOR;
      const len = Math.max(0, Math.min(count * SECTOR, fstatSync(fd).size - start));
      const buf = Buffer.alloc(len);
      for (let done = 0; done < len; ) {
        const n = readSync(fd, buf, done, len - done, start + done);
        if (n === 0) break;
        done += n;
      }
      return buf;
    } finally {
      closeSync(fd);
    }
  }

  /** Writes `data` (any length) at `sector`. */
  async writeSectors(sector: number, data: Uint8Array): Promise<void> {
    checkSectorArgs(this.label, sector, 0);
    const fd = await this.usable('write');
    try {
      for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done, sector * SECTOR + done);
    } finally {
      closeSync(fd);
    }
  }
}

function checkSectorArgs(label: string, sector: number, count: number): void {
  if (!Number.isInteger(sector) || sector < 0) throw new Error(`${label}: sector must be an integer >= 0, got ${sector}`);
  if (!Number.isInteger(count) || count < 0) throw new Error(`${label}: count must be an integer >= 0, got ${count}`);
}

export type DiskSource = { origin: 'scratch'; size: number } | { origin: 'path'; file: string } | { origin: 'template'; file: string; size?: number };

const SOURCE_KEYS = ['scratch', 'size', 'path', 'image', 'template'] as const;

function checkSize(label: string, key: string, size: number): number {
  if (!(size > 0) || size % SECTOR !== 0) throw new Error(`${label}: ${key} must be a positive multiple of ${SECTOR} bytes, got ${size}`);
  return size;
}

/**
 * The one source of a spec, checked: exactly one of scratch/size, path/image,
 * template; or `size` beside `image` or `template` (the original's
 * `{image=, size=}`: a private copy of the image, grown to that size).
 */
export function sourceOf(spec: DiskSpec, label: string): DiskSource {
  const given = SOURCE_KEYS.filter((k) => spec[k] !== undefined);
  const copy = given.length === 2 && given[0] === 'size' && (given[1] === 'image' || given[1] === 'template') ? given[1] : undefined;
  if (given.length !== 1 && !copy) {
    const which = given.length === 0 ? 'none was given' : `got ${given.join(' and ')}`;
    throw new Error(`${label}: a disk needs exactly one source (scratch = size, path = host image, or template = host image; size = may go with image = or template = to size a private copy); ${which}`);
  }
  const key = copy ?? given[0];
  if (key === 'scratch' || key === 'size') return { origin: 'scratch', size: checkSize(label, key, spec[key]!) };
  const size = copy ? checkSize(label, 'size', spec.size!) : undefined;
  const file = path.resolve(spec[key]!);
  try {
    if (!statSync(file).isFile()) throw new Error('not a file');
  } catch {
    throw new Error(`${label}: ${key === 'path' ? 'path' : key} ${file} does not exist or is not a file; give an existing disk image (raw or qcow2)`);
  }
  if (key === 'template' || copy) return { origin: 'template', file, ...(size !== undefined ? { size } : {}) };
  return { origin: 'path', file };
}

/** `{image=, size=}`: an image holding more than `size` bytes is refused rather than cut. */
export function checkCopyFits(have: number, image: string, size: number, label: string): void {
  if (have > size) throw new Error(`${label}: image ${image} holds ${have} bytes, more than size = ${size}; give a size of at least ${Math.ceil(have / SECTOR) * SECTOR} bytes`);
}

/** `{image=, size=}`: the raw copy `file` of `image` grown to `size` bytes (sparse); a copy too big is removed. Returns the size. */
export function growCopy(file: string, image: string, size: number, label: string): number {
  try {
    checkCopyFits(statSync(file).size, image, size, label);
  } catch (e) {
    rmSync(file, { force: true });
    throw e;
  }
  truncateSync(file, size);
  return size;
}

/** A directory for a VM's own disk images. */
export function makeDiskDir(vm: string): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `provium-disks-${vm}-`));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

