/**
 * The pool of worker threads behind a tiny interface, so the thread library
 * stays swappable. Each thread runs one long-lived tinypool task, a session
 * (see protocol.ts), and is sent the files to run: a tinypool task per file
 * cost about a millisecond of dispatch each. A file's messages come back over
 * a MessageChannel of its own, ending with its outcome. Threads are lanes: a
 * lane's files run in the order given, and the next one can wait on the thread
 * behind the running one.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import Tinypool from 'tinypool';
import type { FileOutcome, FileTask, HostMessage, WorkerMessage } from '@provium/types';
import { UsageError } from '../errors.js';
import type { ControlMessage, FileLifecycle, SessionTask } from './protocol.js';

export type OnWorkerMessage = (msg: WorkerMessage, reply: (m: HostMessage) => void) => void;

export interface RunFileOptions {
  /** The lane (thread) 0..threads-1 to run on; default: the lane with the fewest files. */
  lane?: number;
  /** Called when the file begins: at once on a thread with nothing to do, else when the thread gets to it. */
  started?: () => void;
  /** Aborting it drops the file if it has not begun (runFile rejects with FileNotStarted); once begun, it runs on. */
  drop?: AbortSignal;
}

export interface FilePool {
  /**
   * Runs one file. Rejects with FileNotStarted when the file never began (its
   * signal was aborted while it waited, or its thread died running an earlier
   * file): it did not run. Aborting `signal` once it began terminates its thread.
   */
  runFile(task: FileTask, onMessage: OnWorkerMessage, signal: AbortSignal, opts?: RunFileOptions): Promise<FileOutcome>;
  close(): Promise<void>;
}

/** The file never began on its thread: run it again elsewhere, or count it as not run. */
export class FileNotStarted extends Error {
  constructor(why: string) {
    super(`the file did not start: ${why}`);
  }
}

/** PROVIUM_WORKER_MAX_HEAP_MB in MiB (PoolOptions.maxHeapMb); undefined when unset; a UsageError naming the value when it is not a whole number. */
export function workerMaxHeapMbFromEnv(): number | undefined {
  const heap = process.env.PROVIUM_WORKER_MAX_HEAP_MB;
  if (heap !== undefined && !/^[1-9]\d*$/.test(heap)) throw new UsageError(`PROVIUM_WORKER_MAX_HEAP_MB must be a whole number of MiB, got "${heap}"`);
  return heap === undefined ? undefined : Number(heap);
}

export interface PoolOptions {
  /**
   * Caps each worker's JS heap (fengari's Lua heap lives there): a file that
   * runs away with memory kills its own worker, not the run.
   */
  maxHeapMb?: number;
  /** The worker module; only fault-injection tests give another one. */
  entry?: string;
  /** Take over the threads of prestartWorkers (the run's pool does; a fixture builder's must not). */
  adoptPrestarted?: boolean;
}

const WORKER_ENTRY = new URL('../worker/entry.js', import.meta.url).href;
/**
 * A worker that exits mid-file (process.exit) closes its end of the file's
 * channel, but tinypool never settles its task. When the channel closes first,
 * tinypool's own error may still be in flight: wait this long for it before
 * declaring the thread dead.
 */
const EXIT_CONFIRM_MS = 500;

function newTinypool(threads: number, opts: PoolOptions): Tinypool {
  return new Tinypool({
    filename: opts.entry ?? WORKER_ENTRY,
    minThreads: threads,
    maxThreads: threads,
    isolateWorkers: false,
    ...(opts.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: opts.maxHeapMb } } : {}),
  });
}

let prestarted: { pool: Tinypool; threads: number; key: string } | undefined;
const optionsKey = (opts: PoolOptions) => `${opts.entry ?? WORKER_ENTRY}|${opts.maxHeapMb ?? ''}`;

/**
 * Starts worker threads now, before the pool is made: `provium test` calls
 * this first thing, so that the threads load the Lua runtime while the CLI
 * loads, reads provium.toml and finds the files. createWorkerPool adopts them
 * when its options match (threads it does not need stay idle); left unused,
 * idle threads do not keep the process alive (tinypool unrefs them).
 */
export function prestartWorkers(threads: number, opts: PoolOptions = {}): void {
  prestarted ??= { pool: newTinypool(threads, opts), threads, key: optionsKey(opts) };
}

function takePrestarted(opts: PoolOptions): { pool: Tinypool; threads: number } | undefined {
  const p = prestarted;
  prestarted = undefined;
  if (p === undefined) return undefined;
  if (p.key === optionsKey(opts)) return p;
  void p.pool.destroy();
  return undefined;
}

/** A file sent to a session: begun or still waiting behind another. */
interface InFlight {
  started: boolean;
  /** The thread has begun it (its `started` came), reported once the files before it are settled. */
  begun: boolean;
  begin(): void;
  /** Handles the messages already waiting on its port, now. */
  drain(): void;
  /** The session ended: `why` for a file that began (or that nothing else can be blamed for), FileNotStarted for the others. */
  gone(why: Error): void;
}

/** One worker thread's session. */
interface Session {
  control: MessagePort;
  /** Aborting it makes tinypool terminate the thread (and start a fresh one). */
  kill: AbortController;
  /** Why the session is over; undefined while it lives. */
  gone: Error | undefined;
  /** Files sent and not settled, in order. */
  files: Set<InFlight>;
  /** We terminated its thread (a file's abort): the files waiting on it are innocent. */
  retired: boolean;
}

export function createWorkerPool(threads: number, opts: PoolOptions = {}): FilePool {
  // Each tinypool runs up to `cap` sessions, one per thread: the prestarted threads' pool and one for the rest.
  const pools: { pool: Tinypool; cap: number; live: number }[] = [];
  const early = opts.adoptPrestarted ? takePrestarted(opts) : undefined;
  if (early) pools.push({ pool: early.pool, cap: Math.min(early.threads, threads), live: 0 });
  const more = threads - (pools[0]?.cap ?? 0);
  if (more > 0) pools.push({ pool: newTinypool(more, opts), cap: more, live: 0 });
  const lanes: (Session | undefined)[] = new Array(threads).fill(undefined);
  let nextId = 1;

  const start = (lane: number): Session => {
    const { port1, port2 } = new MessageChannel();
    // A lane whose thread died is restarted while tinypool still counts the old thread: any pool with room takes it.
    const home = pools.find((p) => p.live < p.cap) ?? pools[pools.length - 1];
    const s: Session = { control: port1, kill: new AbortController(), gone: undefined, files: new Set(), retired: false };
    home.live++;
    lanes[lane] = s;
    const task: SessionTask = { control: port2 };
    const end = (why: Error) => {
      home.live--;
      s.gone = why;
      if (lanes[lane] === s) lanes[lane] = undefined;
      s.control.close();
      // A waiting file did not run. Unless the thread died before beginning any file (its module
      // failed to load): then the error is the next file's, and retrying would loop.
      let blame = !s.retired;
      for (const f of [...s.files]) {
        if (f.started) blame = false;
        f.gone(f.started || blame ? why : new FileNotStarted(why.message));
        blame = false;
      }
    };
    home.pool.run(task, { transferList: [port2], signal: s.kill.signal }).then(
      () => end(new Error('the worker session ended')),
      (e: unknown) => end(e instanceof Error ? e : new Error(String(e))),
    );
    return s;
  };
  /** Terminates a session's thread; the lane's next file starts a new session at once. */
  const retire = (lane: number, s: Session) => {
    s.retired = true;
    s.kill.abort();
    if (lanes[lane] === s) lanes[lane] = undefined;
  };
  const laneFor = (lane: number | undefined): number => {
    if (lane !== undefined) return lane;
    let best = 0;
    for (let i = 1; i < threads; i++) if ((lanes[i]?.files.size ?? 0) < (lanes[best]?.files.size ?? 0)) best = i;
    return best;
  };

  return {
    runFile(task, onMessage, signal, runOpts = {}) {
      const lane = laneFor(runOpts.lane);
      const s = lanes[lane] ?? start(lane);
      const id = nextId++;
      return new Promise<FileOutcome>((resolve, reject) => {
        const { port1, port2 } = new MessageChannel();
        let settled = false;
        let dropping = false;
        let confirm: NodeJS.Timeout | undefined;
        const entry: InFlight = {
          started: false,
          begun: false,
          gone: (why) => finish(why),
          drain: () => {
            for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1)) handle(m.message as WorkerMessage | FileLifecycle);
          },
          begin: () => {
            if (entry.started) return;
            entry.started = true;
            runOpts.started?.();
            if (signal.aborted) onAbort();
          },
        };
        const finish = (error: Error | undefined, outcome?: FileOutcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(confirm);
          signal.removeEventListener('abort', onAbort);
          runOpts.drop?.removeEventListener('abort', onDrop);
          s.files.delete(entry);
          port1.close();
          if (error) reject(error);
          else resolve(outcome!);
          const next = s.files.values().next().value;
          if (next?.begun) queueMicrotask(next.begin);
        };
        const reply = (m: HostMessage) => {
          if (!settled) port1.postMessage(m);
        };
        const onDrop = () => {
          if (entry.started || dropping || s.gone) return;
          dropping = true; // answered by `dropped`, or by `started` if the thread had begun it
          const drop: ControlMessage = { kind: 'drop', id };
          s.control.postMessage(drop);
        };
        const onAbort = () => {
          if (entry.started) {
            retire(lane, s);
            finish(new Error('the file was aborted: its worker thread was terminated'));
          } else onDrop();
        };
        const handle = (msg: WorkerMessage | FileLifecycle) => {
          switch (msg.kind) {
            case 'started': {
              entry.begun = true;
              if (s.files.values().next().value === entry) return entry.begin();
              // The files before it have ended on the thread, but their last messages came on other
              // ports, which may be read later: read them now, and report this file's start after
              // theirs end (in a microtask, after the orchestrator has seen those files complete).
              for (const before of [...s.files]) {
                if (before === entry) break;
                before.drain();
              }
              if (s.files.values().next().value === entry) queueMicrotask(entry.begin);
              return;
            }
            case 'dropped':
              return finish(new FileNotStarted('dropped before it began'));
            case 'file_done':
              entry.begin(); // (already done unless a file before it never ended: then now)
              if (msg.events.length > 0) onMessage({ kind: 'events', events: msg.events }, reply);
              return finish(undefined, msg.outcome);
            default:
              entry.begin();
              return onMessage(msg, reply);
          }
        };
        port1.on('message', handle);
        port1.once('close', () => {
          if (settled || !entry.started) return; // a waiting file hears from its session's end
          confirm = setTimeout(() => {
            retire(lane, s); // tinypool drops the dead thread and starts a fresh one
            finish(new Error('the thread exited in the middle of the file (process.exit or a fatal error inside the worker)'));
          }, EXIT_CONFIRM_MS);
        });
        if (s.gone) return finish(new FileNotStarted(s.gone.message));
        // On a thread with nothing to do (or still starting up) the file counts as begun now, as
        // it always did: only a file waiting behind another can be dropped rather than cancelled.
        const waits = s.files.size > 0;
        s.files.add(entry);
        signal.addEventListener('abort', onAbort, { once: true });
        runOpts.drop?.addEventListener('abort', onDrop, { once: true });
        const msg: ControlMessage = { kind: 'file', id, task, port: port2 };
        s.control.postMessage(msg, [port2]);
        if (!waits) entry.begin();
        else if (signal.aborted) onAbort();
        else if (runOpts.drop?.aborted) onDrop();
      });
    },
    async close() {
      await Promise.all(pools.map((p) => p.pool.destroy()));
    },
  };
}
