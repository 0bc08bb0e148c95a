/**
 * Unpacking a snapshot container into the template its restores map: the
 * device state, the RAM and each disk's layer as files of a directory, each
 * once per snapshot id and each appearing atomically, so a concurrent unpack
 * or a crash leaves no half-written template.
 *
 * A section stored `over` another snapshot's (snapshot-disks.ts) needs that
 * parent's template first (UnpackOptions.parent): a root layer then points
 * at the parent's unpacked layer, and a RAM layer is expanded over the
 * parent's unpacked RAM into a RAM file of its own.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { convertToRaw, rebaseUnsafe, type DiskFormat } from './disks.js';
import { MiB } from './options.js';
import { pointAt, type DiskSection } from './snapshot-disks.js';
import { readHeader, SnapshotFormatError, type Over, type SnapshotHeader } from './snapshot-file.js';
import { ChildFailed, diskFullError, run, section, tempBeside } from './snapshot-io.js';
import { sparseCopy } from './sparse.js';

export interface SnapshotTemplate {
  header: SnapshotHeader;
  /** The device state (or the whole stream, engine `stream`). */
  state: string;
  /** The guest RAM image, unpacked sparse; absent for engine `stream`. */
  ram?: string;
  /** Each disk's layer, unpacked: never written (a restored VM gets images of its own on top). */
  disks?: { section: DiskSection; file: string }[];
}

/** What a section stored over another snapshot needs of that snapshot's template. */
export interface ParentTemplate {
  id: string;
  ram?: string;
  disks?: { slot: number; kind: DiskSection['kind']; file: string }[];
}

export interface UnpackOptions {
  /** This host's root image of the snapshot's profile: root-delta layers stand on it. */
  root?: { path: string; format: DiskFormat };
  /** The unpacked template of the snapshot a section is stored over; throws SnapshotFormatError when it is gone. */
  parent?: (over: Over) => Promise<ParentTemplate>;
}

/**
 * Unpacks a container into `dir` as `<id>.state`, `<id>.ram` and
 * `<id>.disk-<slot>.*` (once: existing files are reused).
 */
export async function unpackTemplate(container: string, dir: string, opts: UnpackOptions = {}): Promise<SnapshotTemplate> {
  const { fileSize: _size, ...header } = readHeader(container);
  mkdirSync(dir, { recursive: true });
  const state = join(dir, `${header.id}.state`);
  if (!existsSync(state)) {
    const tmp = tempBeside(state);
    try {
      closeSync(openSync(tmp, 'w'));
      sparseCopy(container, header.state.offset, header.state.length, tmp, 0);
      renameSync(tmp, state);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
  const ram = header.ram ? await unpackRam(container, dir, header, opts) : undefined;
  const disks = [];
  for (const section of header.disks ?? []) disks.push({ section, file: await unpackDisk(container, dir, header.id, section, opts) });
  return { header, state, ...(ram ? { ram } : {}), ...(disks.length ? { disks } : {}) };
}

/** The parent template of a section stored over another snapshot; its id must be the one the section was taken over. */
async function parentOf(over: Over, opts: UnpackOptions, what: string): Promise<ParentTemplate> {
  if (!opts.parent) throw new SnapshotFormatError(`${what} is stored over cache entry ${over.ref}, and it is not restored from the fixture cache here`);
  const parent = await opts.parent(over);
  if (parent.id !== over.id) throw new SnapshotFormatError(`${what} is stored over cache entry ${over.ref}, which was rebuilt since (snapshot ${parent.id}, not ${over.id}): build this fixture again`);
  return parent;
}

async function unpackRam(container: string, dir: string, header: SnapshotHeader, opts: UnpackOptions): Promise<string> {
  const r = header.ram!;
  const ram = join(dir, `${header.id}.ram`);
  if (existsSync(ram)) return ram;
  const what = `snapshot ${container}: RAM`;
  const parent = r.over ? await parentOf(r.over, opts, what) : undefined;
  if (r.over && !parent?.ram) throw new SnapshotFormatError(`${what} is stored over cache entry ${r.over.ref}, which has no RAM section: build this fixture again`);
  const tmp = tempBeside(ram);
  const layer = `${tmp}.qcow2`;
  try {
    await unpackSection(container, r, r.over ? layer : tmp, 'RAM');
    if (parent) {
      await rebaseUnsafe(layer, parent.ram!, 'raw', what);
      await convertToRaw(layer, tmp, what);
    }
    const size = statSync(tmp).size;
    const want = header.machine.memoryMiB * MiB;
    if (size !== want) throw new SnapshotFormatError(`it is corrupt: its RAM unpacks to ${size} bytes, the machine has ${want}`);
    renameSync(tmp, ram);
    return ram;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw unpackError(`snapshot ${container}`, ram, e);
  } finally {
    rmSync(layer, { force: true });
  }
}

/** One disk section as `<id>.disk-<slot>.<raw|qcow2>` in `dir` (once; atomically, like the RAM). */
async function unpackDisk(container: string, dir: string, id: string, d: DiskSection, opts: UnpackOptions): Promise<string> {
  const what = `snapshot ${container}: disk "${d.id}"`;
  if (d.kind === 'root-delta' && !opts.root) throw new Error(`${what} is a layer over its profile's root disk, and the profile has none here: restore it with the profile it was taken with`);
  let backing = opts.root;
  if (d.over) {
    const layer = (await parentOf(d.over, opts, what)).disks?.find((p) => p.slot === d.slot && p.kind === 'root-delta');
    if (!layer) throw new SnapshotFormatError(`${what} is stored over cache entry ${d.over.ref}, which has no root layer in slot ${d.slot}: build this fixture again`);
    backing = { path: layer.file, format: 'qcow2' };
  }
  const file = join(dir, `${id}.disk-${d.slot}.${d.kind === 'raw' ? 'raw' : 'qcow2'}`);
  // An unpacked layer from an earlier run may point at a root image or parent layer that moved since.
  if (existsSync(file)) {
    if (d.kind === 'root-delta') await pointAt(file, backing!, what);
    return file;
  }
  const tmp = tempBeside(file);
  try {
    await unpackSection(container, d, tmp, 'disk');
    const size = statSync(tmp).size;
    if (size !== d.size) throw new SnapshotFormatError(`it is corrupt: it unpacks to ${size} bytes, the header says ${d.size}`);
    if (d.kind === 'root-delta') await pointAt(tmp, backing!, what);
    renameSync(tmp, file);
    return file;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw unpackError(what, file, e);
  }
}

/** A section's bytes as file `out` (sparse): copied, or decompressed. */
async function unpackSection(container: string, s: { offset: number; length: number; size: number; encoding: 'raw' | 'zstd' }, out: string, name: 'RAM' | 'disk'): Promise<void> {
  if (s.encoding === 'raw') {
    closeSync(openSync(out, 'w'));
    sparseCopy(container, s.offset, s.size, out, 0);
  } else {
    await unzstd(container, s, out, name);
  }
}

/** An unpack's failure, named: corrupt stays a SnapshotFormatError, a full disk keeps its code. */
function unpackError(what: string, target: string, e: unknown): Error {
  const err = diskFullError(target, e) as NodeJS.ErrnoException;
  const Kind = err instanceof SnapshotFormatError ? SnapshotFormatError : Error;
  return Object.assign(new Kind(`cannot unpack ${what}: ${err.message}`), err.code ? { code: err.code } : {});
}

/**
 * Decompresses a section of `container` into `out` (sparse). When zstd
 * fails, a test pass over the same bytes (it writes nothing) tells a damaged
 * section (SnapshotFormatError) from a failure to write `out` (a full disk).
 */
async function unzstd(container: string, sec: { offset: number; length: number }, out: string, name: 'RAM' | 'disk'): Promise<void> {
  try {
    await run('zstd', ['-d', '-q', '-f', '--sparse', '-o', out], section(container, sec), 'ignore');
  } catch (e) {
    const damaged = await run('zstd', ['-t', '-q'], section(container, sec), 'ignore').then(() => undefined, (t: Error) => t);
    if (damaged instanceof ChildFailed) throw new SnapshotFormatError(`it is corrupt: its ${name} section does not decompress (${damaged.stderr}); take the snapshot again`);
    throw e;
  }
}
