import { dirname } from 'node:path';
import { isProcessAlive, killGroup, procStat } from './procfs.js';
import { copyArtifacts, defaultRuntimeRoot, killOwnedRunDirsSync, readRecord, removeRunDir } from './rundir.js';

interface LiveQemu {
  pid: number;
  start: string;
  runDir: string;
}

// Module state is per thread. launchQemu tracks what this thread starts; the
// main thread tracks workers' QEMUs when told (HostServices.qemuStarted), and
// killAllSync also finds them through the run dirs on disk, which name their owner.
const live = new Map<number, LiveQemu>();
const roots = new Set<string>();

/** Tracks a QEMU by pid and run dir (its record gives the start time that guards against pid reuse). */
export function trackQemu(pid: number, runDir: string): void {
  const start = readRecord(runDir)?.qemu?.start ?? procStat(pid)?.startTime;
  if (start === undefined) return; // already gone
  live.set(pid, { pid, start, runDir });
  roots.add(dirname(runDir));
}

export function untrackQemu(pid: number): void {
  live.delete(pid);
}

/** Pids of the tracked QEMUs that have not been reported ended. */
export function liveQemuPids(): number[] {
  return [...live.keys()];
}

/**
 * SIGKILLs a tracked QEMU (if that very process still runs), copies its
 * artifacts and removes its run dir unless `keep`. Synchronous; true if it killed.
 */
export function killQemuSync(pid: number): boolean {
  const q = live.get(pid);
  if (!q) return false;
  live.delete(pid);
  const alive = isProcessAlive(q.pid, q.start);
  if (alive) killGroup(q.pid);
  const record = readRecord(q.runDir);
  if (record) {
    try {
      copyArtifacts(q.runDir, record);
    } catch {
      // best effort while tearing down
    }
    if (!record.keep) removeRunDir(q.runDir, record);
  }
  return alive;
}

export interface KillAllOptions {
  /** Only VMs launched from this worker thread (e.g. after it died); default: all threads. */
  threadId?: number;
  /** Runtime roots to scan besides the default one and those of tracked VMs. */
  runtimeRoots?: string[];
}

/**
 * Synchronously SIGKILLs every QEMU owned by this process — tracked ones and
 * those found in run dirs naming this process as owner — copying artifacts
 * and removing run dirs not marked `keep`. Safe in `process.on('exit')`.
 * Returns the pids killed.
 */
export function killAllSync(opts: KillAllOptions = {}): number[] {
  const killed = new Set<number>();
  for (const q of [...live.values()]) {
    if (opts.threadId !== undefined && readRecord(q.runDir)?.owner.threadId !== opts.threadId) continue;
    if (killQemuSync(q.pid)) killed.add(q.pid);
  }
  for (const root of new Set([defaultRuntimeRoot(), ...roots, ...(opts.runtimeRoots ?? [])])) {
    for (const pid of killOwnedRunDirsSync(root, opts.threadId)) killed.add(pid);
  }
  return [...killed];
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Main thread: kill every QEMU of this process on exit and on SIGINT/SIGTERM/
 * SIGHUP. After cleaning up on a signal, the signal is re-raised (default
 * action: the process dies of it) unless another listener for it exists, in
 * which case that listener decides how to exit. Returns an uninstaller.
 */
export function installCleanupHandlers(opts: { signals?: boolean } = {}): () => void {
  const onExit = () => killAllSync();
  process.on('exit', onExit);
  const handlers = new Map<NodeJS.Signals, () => void>();
  if (opts.signals ?? true) {
    for (const sig of SIGNALS) {
      const handler = () => {
        killAllSync();
        if (process.listenerCount(sig) === 1) {
          process.off(sig, handler);
          process.kill(process.pid, sig);
        }
      };
      handlers.set(sig, handler);
      process.on(sig, handler);
    }
  }
  return () => {
    process.off('exit', onExit);
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
}
