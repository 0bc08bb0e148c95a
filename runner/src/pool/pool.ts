/**
 * The pool of worker threads behind a tiny interface, so the thread library
 * stays swappable. A task is one test file; the worker streams messages back
 * over a MessageChannel whose other end is handed to it with the task.
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import Tinypool from 'tinypool';
import type { FileOutcome, FileTask, HostMessage, WorkerMessage } from '@provium/types';

export type OnWorkerMessage = (msg: WorkerMessage, reply: (m: HostMessage) => void) => void;

export interface FilePool {
  /** Runs one file; aborting `signal` terminates the worker thread running it. */
  runFile(task: FileTask, onMessage: OnWorkerMessage, signal: AbortSignal): Promise<FileOutcome>;
  close(): Promise<void>;
}

export interface PoolOptions {
  /**
   * Caps each worker's JS heap (fengari's Lua heap lives there): a file that
   * runs away with memory kills its own worker, not the run.
   */
  maxHeapMb?: number;
  /** The worker module; only fault-injection tests give another one. */
  entry?: string;
}

const WORKER_ENTRY = new URL('../worker/entry.js', import.meta.url).href;
/**
 * A worker that exits mid-task (process.exit) closes its end of the task's
 * channel, but tinypool never settles the task. When the channel closes first,
 * the result or tinypool's own error may still be in flight: wait this long
 * for it before declaring the thread dead.
 */
const EXIT_CONFIRM_MS = 500;

export function createWorkerPool(threads: number, opts: PoolOptions = {}): FilePool {
  const pool = new Tinypool({
    filename: opts.entry ?? WORKER_ENTRY,
    minThreads: threads,
    maxThreads: threads,
    isolateWorkers: false,
    ...(opts.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb } } : {}),
  });
  return {
    async runFile(task, onMessage, signal) {
      const { port1, port2 } = new MessageChannel();
      const reply = (m: HostMessage) => port1.postMessage(m);
      port1.on('message', (msg: WorkerMessage) => onMessage(msg, reply));
      // Aborting the task makes tinypool drop the dead thread and start a fresh one.
      const exited = new AbortController();
      let settled = false;
      let confirm: NodeJS.Timeout | undefined;
      port1.once('close', () => {
        if (!settled) confirm = setTimeout(() => exited.abort(), EXIT_CONFIRM_MS);
      });
      try {
        return (await pool.run({ task, port: port2 }, { transferList: [port2], signal: AbortSignal.any([signal, exited.signal]) })) as FileOutcome;
      } catch (e) {
        if (exited.signal.aborted && !signal.aborted) throw new Error('the thread exited in the middle of the file (process.exit or a fatal error inside the worker)');
        throw e;
      } finally {
        settled = true;
        clearTimeout(confirm);
        // The result comes back on tinypool's own channel and can overtake the last messages on ours.
        for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) onMessage(m.message as WorkerMessage, reply);
        port1.close();
      }
    },
    close: () => pool.destroy(),
  };
}
