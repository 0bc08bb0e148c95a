/**
 * Snapshots of a running QEMU as one file, and restores from it.
 *
 * Fast path: the guest RAM lives in a memory-backend-file mapped shared, so
 * the migration stream (`x-ignore-shared`) holds device state only and the
 * RAM file is copied sparse into the container while the VM is stopped.
 * A restore maps an unpacked RAM template privately: QEMU loads only the
 * device state, every VM restored from one template shares its page cache,
 * and the template never changes. Such a VM's RAM is private, so its own
 * next snapshot streams the whole RAM (engine `stream`); a restore that is
 * expected to be snapshotted again (fixture builds, reset_between_tests)
 * maps its own sparse copy of the template shared instead (`copy` mode).
 */
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { closeSync, createReadStream, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LAUNCH_TEMPLATE_VERSION, MACHINE_TYPE } from './cmdline.js';
import { launchQemu } from './launch.js';
import { loadState, saveState } from './migrate.js';
import { MiB, type LaunchOptions } from './options.js';
import type { QemuProcess } from './process.js';
import { imageInfo, type DiskFormat } from './disks.js';
import { diskLayers, pointAtRoot, removeLayers, type DiskLayer, type DiskSection } from './snapshot-disks.js';
import { alignUp, FORMAT_VERSION, HEADER_SPACE, readHeader, sectionsEnd, SnapshotFormatError, writeHeader, type SnapshotHeader } from './snapshot-file.js';
import { sparseCopy } from './sparse.js';

export interface TakenSnapshot {
  header: SnapshotHeader;
  /** Guest RAM bytes that went through the migration stream (near 0 on the fast path). */
  ramTransferred: number;
  /** Bytes the container occupies on disk (sparse). */
  diskBytes: number;
}

function qemuVersionOf(qemu: QemuProcess): string {
  const v = qemu.qmp.greeting.version.qemu;
  return `${v.major}.${v.minor}.${v.micro}`;
}

function tempBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.partial-${process.pid}-${randomUUID().slice(0, 8)}`);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Disk bytes a (sparse) file occupies. */
export function allocatedBytes(path: string): number {
  return statSync(path).blocks * 512;
}

/**
 * Writes a snapshot of `qemu` to `out` (atomically: temp file, fsync, rename).
 * The VM is stopped while its state and RAM are copied and runs again after
 * if it was running. `vm` is the caller's description, kept in the header.
 */
export async function takeSnapshot(qemu: QemuProcess, out: string, vm: Record<string, unknown>): Promise<TakenSnapshot> {
  const wasRunning = (await qemu.status()).running;
  if (wasRunning) await qemu.pause();
  const tmp = tempBeside(out);
  const stateFile = join(qemu.runDir, `state-${randomUUID().slice(0, 8)}`);
  let layers: DiskLayer[] = [];
  try {
    const { ramTransferred } = await saveState(qemu.qmp, stateFile, qemu.opTimeoutMs);
    const stateLength = statSync(stateFile).size;
    const shared = qemu.machine.ram.share;
    const header: SnapshotHeader = {
      format: FORMAT_VERSION,
      id: randomUUID(),
      engine: shared ? 'shared-ram' : 'stream',
      created: new Date().toISOString(),
      machine: {
        type: MACHINE_TYPE, memoryMiB: qemu.machine.memoryMiB, cpus: qemu.machine.cpus, accel: qemu.accel,
        launchTemplate: LAUNCH_TEMPLATE_VERSION, qemu: qemuVersionOf(qemu),
      },
      state: { offset: HEADER_SPACE, length: stateLength },
      vm,
    };
    const size = qemu.machine.memoryMiB * MiB;
    if (shared) header.ram = { offset: alignUp(HEADER_SPACE + stateLength), length: size, encoding: 'raw', size };
    closeSync(openSync(tmp, 'w'));
    sparseCopy(stateFile, 0, stateLength, tmp, HEADER_SPACE);
    if (header.ram) sparseCopy(qemu.machine.ram.path, 0, size, tmp, header.ram.offset);
    layers = await diskLayers(qemu.machine.disks, qemu.runDir);
    if (layers.length > 0) header.disks = [];
    for (const layer of layers) {
      const offset = alignUp(sectionsEnd(header));
      sparseCopy(layer.file, 0, layer.size, tmp, offset);
      header.disks!.push({ ...layer.section, offset, length: layer.size, encoding: 'raw', size: layer.size });
    }
    const fd = openSync(tmp, 'r+');
    try {
      writeHeader(fd, header);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, out);
    fsyncDir(dirname(out));
    return { header, ramTransferred, diskBytes: allocatedBytes(out) };
  } catch (e) {
    rmSync(tmp, { force: true });
    throw diskFullError(out, e);
  } finally {
    rmSync(stateFile, { force: true });
    removeLayers(layers);
    if (wasRunning && qemu.exit === undefined) await qemu.resume();
  }
}

/** A child that ran and exited non-zero, with what it printed. */
class ChildFailed extends Error {
  constructor(message: string, readonly stderr: string) {
    super(message);
  }
}

/** Errno codes of a full file system, by zstd's wording (strerror). */
const DISK_FULL: readonly [RegExp, string][] = [[/No space left on device/, 'ENOSPC'], [/Disk quota exceeded/, 'EDQUOT']];

/**
 * `e` restated when it means the file system of `file` is full (code ENOSPC
 * or EDQUOT kept): a write of ours, or zstd's; any other error as it is.
 */
function diskFullError(file: string, e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? (e instanceof ChildFailed ? DISK_FULL.find(([re]) => re.test(e.stderr))?.[1] : undefined);
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return e;
  return Object.assign(new Error(`cannot write ${file}: its file system is full (${code}): free space there and try again`), { code });
}

/**
 * Runs `cmd` with `stdin` piped into it; rejects with ChildFailed when it
 * fails. A child may exit before reading all its input (a corrupt frame, a
 * full disk): the write to its closed stdin fails with EPIPE, which must be
 * handled here or it crashes the process. The exit code tells what happened.
 */
function run(cmd: string, args: string[], stdin: Readable, stdoutFd: number | 'ignore'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', stdoutFd, 'pipe'] });
    let err = '';
    let inputError: Error | undefined;
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    // EPIPE on stdin: the child stopped reading. Its exit code says why, for any error of its pipes.
    for (const s of [child.stdin!, child.stderr!]) s.on('error', () => {});
    stdin.on('error', (e) => {
      inputError = e;
      child.kill();
    });
    child.once('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message} (install zstd: scripts/setup.sh)`)));
    child.once('close', (code) => {
      stdin.destroy(); // unread input keeps its file open otherwise
      if (inputError) reject(inputError);
      else if (code === 0) resolve();
      else reject(new ChildFailed(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`, err.trim()));
    });
    stdin.pipe(child.stdin!);
  });
}

/** A section of a container (the RAM, a disk), as a stream. */
function section(container: string, s: { offset: number; length: number }): Readable {
  return createReadStream(container, { start: s.offset, end: s.offset + s.length - 1 });
}

/** Compresses a section of `src` onto the end of `dst`, which first grows to `at`; returns the bytes written. */
async function appendZstd(src: string, from: { offset: number; length: number }, dst: string, at: number, level: number): Promise<number> {
  const fd = openSync(dst, 'r+');
  ftruncateSync(fd, at);
  closeSync(fd);
  const appendFd = openSync(dst, 'a');
  try {
    await run('zstd', [`-${level}`, '-q', '-T0', '-c'], section(src, from), appendFd);
  } finally {
    closeSync(appendFd);
  }
  return statSync(dst).size - at;
}

/**
 * Writes a copy of snapshot `src` to `dst` with its RAM and disks compressed by zstd
 * (what the fixture cache keeps). Atomic like takeSnapshot.
 */
export async function compressSnapshot(src: string, dst: string, level = 3): Promise<SnapshotHeader> {
  const header = readHeader(src);
  const { fileSize: _size, ...h } = header;
  const tmp = tempBeside(dst);
  try {
    closeSync(openSync(tmp, 'w'));
    sparseCopy(src, h.state.offset, h.state.length, tmp, h.state.offset);
    if (h.ram) {
      if (h.ram.encoding !== 'raw') throw new Error(`snapshot ${src} is already compressed`);
      const offset = alignUp(h.state.offset + h.state.length);
      h.ram = { ...h.ram, offset, length: await appendZstd(src, h.ram, tmp, offset, level), encoding: 'zstd' };
    }
    for (const [i, d] of (h.disks ?? []).entries()) {
      if (d.encoding !== 'raw') throw new Error(`snapshot ${src} is already compressed`);
      const offset = alignUp(sectionsEnd({ ...h, disks: h.disks!.slice(0, i) }));
      h.disks![i] = { ...d, offset, length: await appendZstd(src, d, tmp, offset, level), encoding: 'zstd' };
    }
    const fd = openSync(tmp, 'r+');
    try {
      writeHeader(fd, h);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, dst);
    fsyncDir(dirname(dst));
    return h;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw diskFullError(dst, e);
  }
}

export interface SnapshotTemplate {
  header: SnapshotHeader;
  /** The device state (or the whole stream, engine `stream`). */
  state: string;
  /** The guest RAM image, unpacked sparse; absent for engine `stream`. */
  ram?: string;
  /** Each disk's layer, unpacked: never written (a restored VM gets images of its own on top). */
  disks?: { section: DiskSection; file: string }[];
}

/**
 * Unpacks a container into `dir` as `<id>.state` and `<id>.ram` (once: an
 * existing unpacked pair is reused). Each file appears atomically, so a
 * concurrent unpack or a crash leaves no half-written template.
 */
export async function unpackTemplate(container: string, dir: string, opts: UnpackOptions = {}): Promise<SnapshotTemplate> {
  const { fileSize: _size, ...header } = readHeader(container);
  mkdirSync(dir, { recursive: true });
  const state = join(dir, `${header.id}.state`);
  const ram = header.ram ? join(dir, `${header.id}.ram`) : undefined;
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
  if (ram && header.ram && !existsSync(ram)) {
    const tmp = tempBeside(ram);
    try {
      if (header.ram.encoding === 'raw') {
        closeSync(openSync(tmp, 'w'));
        sparseCopy(container, header.ram.offset, header.ram.size, tmp, 0);
      } else {
        await unzstd(container, header.ram, tmp, 'RAM');
      }
      const size = statSync(tmp).size;
      if (size !== header.ram.size) throw new SnapshotFormatError(`it is corrupt: its RAM unpacks to ${size} bytes, the header says ${header.ram.size}`);
      renameSync(tmp, ram);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw unpackError(`snapshot ${container}`, ram, e);
    }
  }
  const disks = [];
  for (const section of header.disks ?? []) disks.push({ section, file: await unpackDisk(container, dir, header.id, section, opts) });
  return { header, state, ...(ram ? { ram } : {}), ...(disks.length ? { disks } : {}) };
}

export interface UnpackOptions {
  /** This host's root image of the snapshot's profile: root-delta layers stand on it. */
  root?: { path: string; format: DiskFormat };
}

/** One disk section as `<id>.disk-<slot>.<raw|qcow2>` in `dir` (once; atomically, like the RAM). */
async function unpackDisk(container: string, dir: string, id: string, d: DiskSection, opts: UnpackOptions): Promise<string> {
  const what = `snapshot ${container}: disk "${d.id}"`;
  if (d.kind === 'root-delta' && !opts.root) throw new Error(`${what} is a layer over its profile's root disk, and the profile has none here: restore it with the profile it was taken with`);
  const file = join(dir, `${id}.disk-${d.slot}.${d.kind === 'raw' ? 'raw' : 'qcow2'}`);
  if (existsSync(file)) {
    if (d.kind === 'root-delta' && (await imageInfo(file, what)).backing !== opts.root!.path) await pointAtRoot(file, opts.root!, what);
    return file;
  }
  const tmp = tempBeside(file);
  try {
    if (d.encoding === 'raw') {
      closeSync(openSync(tmp, 'w'));
      sparseCopy(container, d.offset, d.size, tmp, 0);
    } else {
      await unzstd(container, d, tmp, 'disk');
    }
    const size = statSync(tmp).size;
    if (size !== d.size) throw new SnapshotFormatError(`it is corrupt: it unpacks to ${size} bytes, the header says ${d.size}`);
    if (d.kind === 'root-delta') await pointAtRoot(tmp, opts.root!, what);
    renameSync(tmp, file);
    return file;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw unpackError(what, file, e);
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

export type RestoreMode = 'private' | 'copy';

export type RestoreLaunchOptions = Omit<LaunchOptions, 'memoryMiB' | 'cpus' | 'ram' | 'incoming'>;

/**
 * Starts the QEMU of a restore: the snapshot's machine, waiting for its
 * device state (handed over as an open file). `opts` gives the same kernel,
 * initrd, append and extra devices the snapshot was taken with; memory and
 * CPUs come from the snapshot. `private` maps the template (fast, shared
 * page cache); `copy` maps a copy shared, so the VM's next snapshot is fast
 * again. finishRestore() loads the state and resumes the guest.
 */
export async function launchForRestore(template: SnapshotTemplate, opts: RestoreLaunchOptions, mode: RestoreMode): Promise<QemuProcess> {
  const m = template.header.machine;
  if (m.type !== MACHINE_TYPE || m.launchTemplate !== LAUNCH_TEMPLATE_VERSION) {
    throw new Error(`snapshot of VM "${opts.name}" was taken with machine ${m.type}, launch template ${m.launchTemplate}; this Provium launches ${MACHINE_TYPE}, template ${LAUNCH_TEMPLATE_VERSION}: take the snapshot again`);
  }
  // A stream carries the RAM itself: it loads into a fresh private mapping (QEMU 7.2 skips
  // loading into RAM mapped shared when x-ignore-shared is on, and the capability must match the source's).
  const ram = template.ram === undefined ? { share: false } : mode === 'private' ? { path: template.ram, share: false } : { initialFrom: template.ram };
  const qemu = await launchQemu({ ...opts, memoryMiB: m.memoryMiB, cpus: m.cpus, incoming: { state: template.state }, ram });
  const v = qemuVersionOf(qemu);
  if (v !== m.qemu) {
    await qemu.kill();
    throw new Error(`snapshot of VM "${opts.name}" was taken with QEMU ${m.qemu}; this host runs ${v}: take the snapshot again`);
  }
  return qemu;
}

/** Loads the device state into a QEMU from launchForRestore and resumes the guest; kills QEMU if that fails. */
export async function finishRestore(qemu: QemuProcess, template: SnapshotTemplate): Promise<void> {
  try {
    if (qemu.incomingFd === undefined) throw new Error(`QEMU of VM "${qemu.name}" was not started for a restore (launchForRestore)`);
    await loadState(qemu.qmp, qemu.incomingFd, template.state, qemu.opTimeoutMs);
    await qemu.resume();
  } catch (e) {
    await qemu.kill();
    throw e;
  }
}

/** launchForRestore, then finishRestore. */
export async function restoreSnapshot(template: SnapshotTemplate, opts: RestoreLaunchOptions, mode: RestoreMode): Promise<QemuProcess> {
  const qemu = await launchForRestore(template, opts, mode);
  await finishRestore(qemu, template);
  return qemu;
}

export { readHeader, SnapshotFormatError, type SnapshotHeader } from './snapshot-file.js';
