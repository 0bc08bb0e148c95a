import { threadId } from 'node:worker_threads';
import { isProcessAlive, killGroup } from './procfs.js';
import { defaultRuntimeRoot, killOwnedRunDirsSync } from './rundir.js';

interface LiveQemu {
  pid: number;
  start: string;
}

// Per thread (module state is per isolate); killAllSync reaches other
// threads' VMs through the run dirs on disk, which name their owner.
const live = new Map<number, LiveQemu>();
const roots = new Set<string>();

export function registerQemu(pid: number, start: string, runtimeRoot: string): void {
  live.set(pid, { pid, start });
  roots.add(runtimeRoot);
}

export function unregisterQemu(pid: number): void {
  live.delete(pid);
}

/** Pids of the QEMUs this thread launched that have not exited yet. */
export function liveQemuPids(): number[] {
  return [...live.keys()];
}

export interface KillAllOptions {
  /** Only VMs launched from this worker thread (e.g. after it died); default: all threads. */
  threadId?: number;
  /** Runtime roots to scan besides the default one and those this thread used. */
  runtimeRoots?: string[];
}

/**
 * Synchronously SIGKILLs every QEMU owned by this process and removes their
 * run dirs (copying artifacts first; `keep` dirs stay). Safe in
 * `process.on('exit')`. Returns the pids killed.
 */
export function killAllSync(opts: KillAllOptions = {}): number[] {
  const killed = new Set<number>();
  if (opts.threadId === undefined || opts.threadId === threadId) {
    for (const q of live.values()) {
      if (isProcessAlive(q.pid, q.start)) {
        killGroup(q.pid);
        killed.add(q.pid);
      }
    }
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
 * action: exit 128+n) unless another listener for it exists, in which case
 * that listener decides how to exit. Returns a function that uninstalls.
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
