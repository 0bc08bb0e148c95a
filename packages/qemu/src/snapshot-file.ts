/**
 * The one-file snapshot container. Layout:
 *
 *   "PROVSNAP" | u32 LE header length | header JSON | zero padding to HEADER_SPACE
 *   device state (the migration stream)             at header.state.offset
 *   guest RAM image (raw and sparse, or zstd)       at header.ram.offset, page aligned
 *   one section per disk (raw and sparse, or zstd)  at header.disks[i].offset, page aligned
 *
 * The header is rewritten in place once the sections are written, so its
 * space is reserved up front. Restoring maps the RAM as a file, so the RAM
 * section is unpacked once per snapshot id into a template (see template.ts).
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { DiskSection } from './snapshot-disks.js';

export const MAGIC = 'PROVSNAP';
/** 2 adds disk sections; 1 (no disks) is still read. */
export const FORMAT_VERSION = 2;
const READABLE_FORMATS = [1, 2];
/** Reserved bytes for magic, length and header; sections start page aligned after it. */
export const HEADER_SPACE = 64 * 1024;
export const PAGE = 4096;

/**
 * A section stored as a qcow2 layer over the same section of another
 * snapshot: the fixture cache entry at `ref` (a path relative to the cache
 * directory, never absolute, so the cache can move) whose header id is `id`
 * (an entry rebuilt under the same name is another snapshot, and refused).
 */
export interface Over {
  ref: string;
  id: string;
}

export interface SnapshotHeader {
  format: number;
  /** Random per snapshot: names its unpacked RAM template. A recompressed copy keeps it (same content). */
  id: string;
  /**
   * `shared-ram`: the state holds devices only and the RAM is its own section
   * (the VM ran with its RAM file mapped shared). `stream`: the RAM went through
   * the migration stream (the VM ran on a private mapping); no RAM section.
   */
  engine: 'shared-ram' | 'stream';
  created: string;
  /** What the restoring QEMU must match exactly. */
  machine: { type: string; memoryMiB: number; cpus: number; accel: string; launchTemplate: number; qemu: string };
  state: { offset: number; length: number };
  /** `size`: bytes of the unpacked section (the RAM, or with `over` its qcow2 layer). */
  ram?: { offset: number; length: number; encoding: 'raw' | 'zstd'; size: number; over?: Over };
  /** The VM's disks in slot order, after the RAM (see snapshot-disks.ts). */
  disks?: DiskSection[];
  /** The caller's description of the VM (profile, name, boot options, NICs): opaque here. */
  vm: Record<string, unknown>;
}

export class SnapshotFormatError extends Error {}

export function alignUp(n: number, to = PAGE): number {
  return Math.ceil(n / to) * to;
}

/** Where the last section ends: the container's size. */
export function sectionsEnd(h: Pick<SnapshotHeader, 'state' | 'ram' | 'disks'>): number {
  return Math.max(h.state.offset + h.state.length, ...(h.ram ? [h.ram.offset + h.ram.length] : []), ...(h.disks ?? []).map((d) => d.offset + d.length));
}

/** Writes magic, length and header at the start of an open container. */
export function writeHeader(fd: number, header: SnapshotHeader): void {
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  if (12 + json.length > HEADER_SPACE) throw new Error(`snapshot header of ${json.length} bytes does not fit in ${HEADER_SPACE}: the VM description is too large`);
  writeSync(fd, head, 0, 12, 0);
  writeSync(fd, json, 0, json.length, 12);
}

/** Reads and checks a container's header; errors name the file and say what is wrong. */
export function readHeader(path: string): SnapshotHeader & { fileSize: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new SnapshotFormatError(`snapshot ${path} cannot be opened: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const fileSize = fstatSync(fd).size;
    const head = Buffer.alloc(12);
    if (readSync(fd, head, 0, 12, 0) < 12 || head.toString('latin1', 0, 8) !== MAGIC) {
      throw new SnapshotFormatError(`${path} is not a Provium snapshot (no ${MAGIC} header)`);
    }
    const len = head.readUInt32LE(8);
    if (len > HEADER_SPACE - 12) throw new SnapshotFormatError(`snapshot ${path} has a corrupt header length (${len})`);
    const json = Buffer.alloc(len);
    readSync(fd, json, 0, len, 12);
    let header: SnapshotHeader;
    try {
      header = JSON.parse(json.toString('utf8')) as SnapshotHeader;
    } catch {
      throw new SnapshotFormatError(`snapshot ${path} has a corrupt header (not JSON)`);
    }
    if (!READABLE_FORMATS.includes(header.format)) {
      throw new SnapshotFormatError(`snapshot ${path} has format ${header.format}; this Provium reads format ${FORMAT_VERSION}: take the snapshot again`);
    }
    const end = sectionsEnd(header);
    if (header.state.length <= 0 || fileSize < end) {
      throw new SnapshotFormatError(`snapshot ${path} is truncated: ${fileSize} bytes, the header says ${end}`);
    }
    return { ...header, fileSize };
  } finally {
    closeSync(fd);
  }
}
