/**
 * Where the switches' sockets live: `<root>/<pid>-<random>/` per backend
 * (owner.json names the provium process), one subdirectory per switch. A
 * directory whose owner is gone (provium was killed) is swept by the next
 * backend that starts under the same root.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_RUNTIME_DIR/provium-net` when set, else `/tmp/provium-net-<uid>`. */
export function defaultNetRoot(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg ? join(xdg, 'provium-net') : join(tmpdir(), `provium-net-${process.getuid?.() ?? 0}`);
}

interface Owner {
  pid: number;
  start: string;
}

/** Start time of a process (field 22 of /proc/<pid>/stat), or undefined when it does not exist. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = lstatSync(root);
  if (!st.isDirectory()) throw new Error(`network socket root ${root} is not a directory (a symlink?); remove it`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`network socket root ${root} belongs to uid ${st.uid}, not to us (uid ${uid})`);
  if ((st.mode & 0o077) !== 0) chmodSync(root, 0o700);
}

/** Removes the directories under `root` whose owning process is gone; returns them. */
export function sweepStaleNetDirs(root = defaultNetRoot()): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return removed;
  }
  for (const name of entries) {
    const dir = join(root, name);
    let owner: Owner | undefined;
    try {
      owner = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as Owner;
    } catch {
      const pid = Number(name.split('-')[0]);
      owner = Number.isInteger(pid) && pid > 0 ? { pid, start: '' } : undefined;
    }
    if (!owner) continue;
    const start = startTime(owner.pid);
    const alive = start !== undefined && (owner.start === '' || owner.start === start);
    if (alive) continue;
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** A fresh private directory for one backend's switches (stale ones under the root are swept first). */
export function createNetDir(root = defaultNetRoot()): string {
  ensureRoot(root);
  sweepStaleNetDirs(root);
  const dir = mkdtempSync(join(root, `${process.pid}-`));
  const owner: Owner = { pid: process.pid, start: startTime(process.pid) ?? '' };
  writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner) + '\n');
  return dir;
}
