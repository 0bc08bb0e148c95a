import {
  copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync,
  statSync, writeFileSync, chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { isProcessAlive, killGroup, procStat } from './procfs.js';

/** Contents of `<run dir>/pid` (JSON). */
export interface RunDirRecord {
  version: 1;
  name: string;
  /** The provium process (and thread) that owns the VM. */
  owner: { pid: number; start: string; threadId: number };
  /** Absent until QEMU is spawned. */
  qemu?: { pid: number; start: string };
  /** Guest RAM file; `owned` = created for this VM, deleted with the run dir. */
  ram: { path: string; owned: boolean };
  keep: boolean;
  artifactsDir?: string;
}

export interface SweepResult {
  /** Run dirs removed. */
  removed: string[];
  killedQemuPids: number[];
  /** RAM files on /dev/shm whose run dir was already gone (its root deleted, say). */
  removedRamFiles: string[];
}

/** Where guest RAM goes when it fits: tmpfs. Files are named `provium-<run dir name>.ram`. */
export const SHM_DIR = '/dev/shm';

const RECORD = 'pid';
/** Longest unix socket path Linux accepts (sun_path is 108 bytes incl. NUL). */
const MAX_SOCKET_PATH = 107;

/** `$XDG_RUNTIME_DIR/provium` when set, else `/tmp/provium-run-<uid>`. */
export function defaultRuntimeRoot(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg ? join(xdg, 'provium') : join(tmpdir(), `provium-run-${process.getuid?.() ?? 0}`);
}

/** Creates the root (mode 0700) or checks that an existing one is a private directory of ours. */
export function ensureRuntimeRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = lstatSync(root);
  if (!st.isDirectory()) throw new Error(`runtime root ${root} is not a directory (a symlink?); remove it`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new Error(`runtime root ${root} belongs to uid ${st.uid}, not to us (uid ${uid}); remove it or use another root`);
  }
  if ((st.mode & 0o077) !== 0) chmodSync(root, 0o700);
}

/** Makes `<root>/<owner pid>-<name>-<random>`; the owner pid in the name lets a sweep judge a dir whose record is missing. */
export function createRunDir(root: string, name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 24);
  const dir = mkdtempSync(join(root, `${process.pid}-${safe}-`));
  const probe = join(dir, 'console.sock');
  if (Buffer.byteLength(probe) > MAX_SOCKET_PATH) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `run directory path too long for unix sockets (${Buffer.byteLength(probe)} > ${MAX_SOCKET_PATH} bytes): ${probe}; use a shorter runtime root`,
    );
  }
  return dir;
}

export function ownerIdentity(): RunDirRecord['owner'] {
  return { pid: process.pid, start: procStat(process.pid)!.startTime, threadId };
}

/** Atomic replace, so a sweep never reads half a record. */
export function writeRecord(dir: string, record: RunDirRecord): void {
  const tmp = join(dir, `${RECORD}.tmp`);
  writeFileSync(tmp, JSON.stringify(record) + '\n');
  renameSync(tmp, join(dir, RECORD));
}

export function readRecord(dir: string): RunDirRecord | undefined {
  try {
    const rec = JSON.parse(readFileSync(join(dir, RECORD), 'utf8')) as RunDirRecord;
    return rec.version === 1 && rec.owner ? rec : undefined;
  } catch {
    return undefined;
  }
}

/** Copies the logs worth keeping to `artifactsDir` as `<name>.console.log` / `<name>.qemu.log`; returns the paths written. */
export function copyArtifacts(dir: string, record: RunDirRecord): string[] {
  if (!record.artifactsDir) return [];
  mkdirSync(record.artifactsDir, { recursive: true });
  const written: string[] = [];
  for (const [file, suffix] of [['console.log', 'console.log'], ['qemu.log', 'qemu.log']] as const) {
    const src = join(dir, file);
    if (!existsSync(src) || (file === 'qemu.log' && statSync(src).size === 0)) continue;
    const dest = join(record.artifactsDir, `${record.name}.${suffix}`);
    copyFileSync(src, dest);
    written.push(dest);
  }
  return written;
}

/** Deletes the run dir and the RAM file if it was made for this VM. Idempotent. */
export function removeRunDir(dir: string, record: RunDirRecord | undefined): void {
  if (record?.ram.owned) rmSync(record.ram.path, { force: true });
  rmSync(dir, { recursive: true, force: true });
}

/** Kills the record's QEMU if that very process still runs; returns its pid when it did. */
function killRecordedQemu(record: RunDirRecord): number | undefined {
  if (!record.qemu || !isProcessAlive(record.qemu.pid, record.qemu.start)) return undefined;
  killGroup(record.qemu.pid);
  return record.qemu.pid;
}

function runDirs(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && /^\d+-/.test(e.name))
      .map((e) => join(root, e.name));
  } catch {
    return [];
  }
}

/**
 * Removes run dirs whose owning provium process is gone (pid dead, or reused
 * by another process: start times differ), killing their QEMU if it survived.
 * Dirs of live owners are left alone, `keep` ones included.
 */
export function sweepStaleRunDirs(root: string = defaultRuntimeRoot()): SweepResult {
  const result: SweepResult = { removed: [], killedQemuPids: [], removedRamFiles: [] };
  for (const dir of runDirs(root)) {
    const record = readRecord(dir);
    const ownerAlive = record
      ? isProcessAlive(record.owner.pid, record.owner.start)
      : isProcessAlive(Number(basename(dir).split('-')[0]));
    if (ownerAlive) continue;
    if (record) {
      const killed = killRecordedQemu(record);
      if (killed !== undefined) result.killedQemuPids.push(killed);
    }
    removeRunDir(dir, record);
    result.removed.push(dir);
  }
  result.removedRamFiles = sweepOrphanRamFiles();
  return result;
}

/** RAM files of ours on /dev/shm whose owner pid (in the name) is dead. */
function sweepOrphanRamFiles(): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(SHM_DIR);
  } catch {
    return removed;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const m = /^provium-(\d+)-.*\.ram$/.exec(name);
    if (!m || isProcessAlive(Number(m[1]))) continue;
    const file = join(SHM_DIR, name);
    try {
      if (uid !== undefined && lstatSync(file).uid !== uid) continue;
      rmSync(file, { force: true });
      removed.push(file);
    } catch {
      // raced with another sweep
    }
  }
  return removed;
}

/**
 * For exit handlers: kills the QEMU of every run dir under `root` owned by
 * this process (any thread, or only `threadId`), copies their artifacts and
 * removes the dirs not marked `keep`. Synchronous.
 */
export function killOwnedRunDirsSync(root: string, onlyThreadId?: number): number[] {
  const me = ownerIdentity();
  const killed: number[] = [];
  for (const dir of runDirs(root)) {
    if (!basename(dir).startsWith(`${me.pid}-`)) continue;
    const record = readRecord(dir);
    if (!record || record.owner.pid !== me.pid || record.owner.start !== me.start) continue;
    if (onlyThreadId !== undefined && record.owner.threadId !== onlyThreadId) continue;
    const pid = killRecordedQemu(record);
    if (pid !== undefined) killed.push(pid);
    try {
      copyArtifacts(dir, record);
    } catch {
      // best effort while exiting
    }
    if (!record.keep) removeRunDir(dir, record);
  }
  return killed;
}
