import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

interface ProcStat {
  state: string;
  pgid: number;
  sid: number;
  /** Field 22, clock ticks since boot: with the pid it names one process for good. */
  startTime: string;
}

/** Parses /proc/<pid>/stat; undefined when there is no such process. */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, pgid: Number(fields[2]), sid: Number(fields[3]), startTime: fields[19]! };
}

/**
 * True when `pid` runs and, if `startTime` is given, is the process that had
 * that start time (a reused pid is another process). Zombies count as dead:
 * an orphan's zombie may linger when pid 1 does not reap.
 */
export function isProcessAlive(pid: number, startTime?: string): boolean {
  const st = procStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || st.startTime === startTime;
}

/** SIGKILLs the process group led by `pid` (QEMU and anything it spawned); no error if gone. */
export function killGroup(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Sets the CPU priority of `pid`, which leads a session of its own: the nice
 * value of its scheduler autogroup (with autogroups on, the kernel shares the
 * CPU fairly between sessions whatever their threads' nice values) and of
 * every thread (Linux keeps one per thread; threads made meanwhile inherit it
 * from their maker, so a pass that finds no new thread ends it). No error if
 * the process is gone or the kernel has no autogroups.
 */
export function renice(pid: number, value: number): void {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(value));
  } catch (e) {
    if (!['ENOENT', 'ESRCH'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  }
  reniceThreads(pid, value);
}

function reniceThreads(pid: number, value: number): void {
  const done = new Set<string>();
  for (;;) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`).filter((t) => !done.has(t));
    } catch {
      return;
    }
    if (tids.length === 0) return;
    for (const tid of tids) {
      try {
        setPriority(Number(tid), value);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
      done.add(tid);
    }
  }
}
