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

const WORKER_ENTRY = new URL('../worker/entry.js', import.meta.url).href;

/**
 * `maxHeapMb` caps each worker's JS heap (fengari's Lua heap lives there): a
 * file that runs away with memory kills its own worker, not the run.
 */
export function createWorkerPool(threads: number, maxHeapMb?: number): FilePool {
  const pool = new Tinypool({
    filename: WORKER_ENTRY,
    minThreads: threads,
    maxThreads: threads,
    isolateWorkers: false,
    ...(maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } } : {}),
  });
  return {
    async runFile(task, onMessage, signal) {
      const { port1, port2 } = new MessageChannel();
      const reply = (m: HostMessage) => port1.postMessage(m);
      port1.on('message', (msg: WorkerMessage) => onMessage(msg, reply));
      try {
        return (await pool.run({ task, port: port2 }, { transferList: [port2], signal })) as FileOutcome;
      } finally {
        // The result comes back on tinypool's own channel and can overtake the last messages on ours.
        for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) onMessage(m.message as WorkerMessage, reply);
        port1.close();
      }
    },
    close: () => pool.destroy(),
  };
}
