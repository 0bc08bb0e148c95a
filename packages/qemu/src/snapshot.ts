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
import { alignUp, FORMAT_VERSION, HEADER_SPACE, readHeader, SnapshotFormatError, writeHeader, type SnapshotHeader } from './snapshot-file.js';
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

/** The RAM section of a container, as a stream. */
function ramSection(container: string, ram: { offset: number; length: number }): Readable {
  return createReadStream(container, { start: ram.offset, end: ram.offset + ram.length - 1 });
}

/**
 * Writes a copy of snapshot `src` to `dst` with its RAM compressed by zstd
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
      const fd = openSync(tmp, 'r+');
      ftruncateSync(fd, offset);
      closeSync(fd);
      const appendFd = openSync(tmp, 'a');
      try {
        await run('zstd', [`-${level}`, '-q', '-T0', '-c'], ramSection(src, h.ram), appendFd);
      } finally {
        closeSync(appendFd);
      }
      h.ram = { ...h.ram, offset, length: statSync(tmp).size - offset, encoding: 'zstd' };
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
}

/**
 * Unpacks a container into `dir` as `<id>.state` and `<id>.ram` (once: an
 * existing unpacked pair is reused). Each file appears atomically, so a
 * concurrent unpack or a crash leaves no half-written template.
 */
export async function unpackTemplate(container: string, dir: string): Promise<SnapshotTemplate> {
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
        await unzstd(container, header.ram, tmp);
      }
      const size = statSync(tmp).size;
      if (size !== header.ram.size) throw new SnapshotFormatError(`it is corrupt: its RAM unpacks to ${size} bytes, the header says ${header.ram.size}`);
      renameSync(tmp, ram);
    } catch (e) {
      rmSync(tmp, { force: true });
      const err = diskFullError(ram, e) as NodeJS.ErrnoException;
      const Kind = err instanceof SnapshotFormatError ? SnapshotFormatError : Error;
      throw Object.assign(new Kind(`cannot unpack snapshot ${container}: ${err.message}`), err.code ? { code: err.code } : {});
    }
  }
  return { header, state, ...(ram ? { ram } : {}) };
}

/**
 * Decompresses the RAM section of `container` into `out` (sparse). When zstd
 * fails, a test pass over the same bytes (it writes nothing) tells a damaged
 * section (SnapshotFormatError) from a failure to write `out` (a full disk).
 */
async function unzstd(container: string, ram: { offset: number; length: number }, out: string): Promise<void> {
  try {
    await run('zstd', ['-d', '-q', '-f', '--sparse', '-o', out], ramSection(container, ram), 'ignore');
  } catch (e) {
    const damaged = await run('zstd', ['-t', '-q'], ramSection(container, ram), 'ignore').then(() => undefined, (t: Error) => t);
    if (damaged instanceof ChildFailed) throw new SnapshotFormatError(`it is corrupt: its RAM section does not decompress (${damaged.stderr}); take the snapshot again`);
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
