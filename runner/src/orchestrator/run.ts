/**
 * The run: test files dispatched to N lanes (one worker thread each), their
 * messages folded into run events, per-file hard deadlines, fail-fast and
 * cancellation. Knows nothing of reporters: events leave through `emit`.
 */
import { setMaxListeners } from 'node:events';
import type { FailureInfo, FileCompleted, FileOutcome, FileStatus, FileTask, RunCompleted, RunEvent, RunShard, TestSelection } from '@provium/types';
import { HARD_KILL_GRACE_MS } from '../config/defaults.js';
import { FileDeadline } from './file-deadline.js';
import type { FileHost } from '../host/main-host.js';
import type { TestFile } from '../list/discover.js';
import { FileNotStarted, type FilePool, type OnWorkerMessage } from '../pool/pool.js';
import { serveHostCall } from './host-calls.js';
import { addFile, noTotals } from './totals.js';

export interface RunPlan {
  files: TestFile[];
  roots: string[];
  selection: TestSelection;
  jobs: number;
  /** Per-file timeout, ms, already scaled. */
  fileTimeoutMs: number;
  timeoutScale: number;
  failFast: boolean;
  keepOnFailure: boolean;
  chunkCacheDir?: string;
  /** The shard `files` are (`--shard K/N`), for the run_started event. */
  shard?: RunShard;
}

const now = () => new Date().toISOString();

/** Gives each file its view of the main thread's services (absent: files cannot start VMs). */
/** `queue` pauses the file's deadline while the file waits for resources. */
export type HostFactory = (file: string, emit: (e: RunEvent) => void, queue: { pause(): void; resume(): void }) => FileHost;

/**
 * `opts.beforeSummary` ends what may outlive the files (fixture builds no
 * file waits for any more): what it reports comes before the summary, which
 * is the run's last event.
 */
export async function runPlan(plan: RunPlan, pool: FilePool, emit: (e: RunEvent) => void, opts: { signal: AbortSignal; hostFor?: HostFactory; beforeSummary?: () => Promise<void> }): Promise<RunCompleted> {
  const started = performance.now();
  emit({ event: 'run_started', timestamp: now(), files: plan.files.length, ...(plan.shard ? { shard: plan.shard } : {}) });
  const queue = [...plan.files];
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per file in flight: many at -j 12 and more, and no leak
  const onCancel = () => stop.abort(new Error('cancelled'));
  opts.signal.addEventListener('abort', onCancel, { once: true });
  if (opts.signal.aborted) onCancel(); // interrupted before the run began: an abort listener added now never hears it
  const totals = noTotals();

  // A lane is one worker thread. With a file running, the next one already waits on
  // the thread (a round trip to this thread per file cost the worker a quarter of its
  // time); not with --fail-fast, where no file may begin after a failure. A lane with
  // nothing left to take takes over a file that waits behind a running one elsewhere:
  // a long file (a VM test) must not hold up the next one while a thread is free.
  const depth = plan.failFast ? 0 : 1;
  const waiting = new Set<Sent>();
  const lane = async (worker: number) => {
    const inFlight: Sent[] = [];
    const send = (file: TestFile) => {
      let begun!: () => void;
      const sent: Sent = { file, stolen: false, steal: new AbortController(), begun: new Promise<void>((r) => (begun = r)), done: undefined! };
      const behind = inFlight.length > 0;
      sent.done = runOne(plan, pool, file, worker, emit, stop.signal, opts.hostFor, sent.steal.signal, () => {
        waiting.delete(sent);
        begun();
      });
      if (behind) {
        waiting.add(sent);
        // One that ends without beginning (its thread died first; it goes back to the queue) is no longer there to take.
        const forget = () => waiting.delete(sent);
        void sent.done.then(forget, forget); // (a rejection reaches the lane through `done`)
      }
      inFlight.push(sent);
    };
    for (;;) {
      while (inFlight.length <= depth && !stop.signal.aborted && queue.length > 0) send(queue.shift()!);
      const victim = inFlight.length === 0 && !stop.signal.aborted ? waiting.values().next().value : undefined;
      if (victim !== undefined) {
        waiting.delete(victim);
        victim.stolen = true;
        victim.steal.abort(); // dropped if it has not begun; if it has, it runs where it is
        const dropped = await Promise.race([victim.done.then((d) => d === undefined), victim.begun.then(() => false)]);
        if (dropped && !stop.signal.aborted) send(victim.file);
        else if (dropped) queue.unshift(victim.file);
        continue;
      }
      const head = inFlight.shift();
      if (head === undefined) break;
      const done = await head.done;
      if (done === undefined) {
        // It never began: run it later, or count it as not run (a stolen one runs elsewhere).
        if (!head.stolen) queue.unshift(head.file);
        continue;
      }
      if (addFile(totals, done) && plan.failFast) stop.abort(new Error('fail-fast'));
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.jobs, plan.files.length) }, (_, i) => lane(i)));
  opts.signal.removeEventListener('abort', onCancel);
  await opts.beforeSummary?.();

  const summary: RunCompleted = {
    event: 'run_completed',
    timestamp: now(),
    ...totals,
    not_run: queue.length,
    duration_ms: Math.round(performance.now() - started),
    exit_code: opts.signal.aborted ? 130 : totals.failed_files > 0 || totals.failed > 0 ? 1 : 0,
  };
  emit(summary);
  return summary;
}

/** A file sent to a lane's thread. */
interface Sent {
  file: TestFile;
  /** Aborted by a lane that takes the file over: drops it unless it has begun. */
  steal: AbortController;
  stolen: boolean;
  begun: Promise<void>;
  done: Promise<FileCompleted | undefined>;
}

/** Runs one file on lane `worker`; undefined when it never began (see FileNotStarted). */
async function runOne(
  plan: RunPlan,
  pool: FilePool,
  file: TestFile,
  worker: number,
  emit: (e: RunEvent) => void,
  stop: AbortSignal,
  hostFor: HostFactory | undefined,
  drop: AbortSignal,
  begun: () => void,
): Promise<FileCompleted | undefined> {
  const task: FileTask = {
    file: file.path,
    displayPath: file.display,
    roots: plan.roots,
    selection: plan.selection,
    fileTimeoutMs: plan.fileTimeoutMs,
    timeoutScale: plan.timeoutScale,
    workerIndex: worker,
    keepOnFailure: plan.keepOnFailure,
    chunkCacheDir: plan.chunkCacheDir,
  };
  // Counted from events too: a terminated worker returns no outcome.
  const seen = { passed: 0, failed: 0, skipped: 0 };
  let running: string | undefined;
  let host: FileHost | undefined;
  const kill = new AbortController();
  let started = 0;
  const deadline = new FileDeadline(plan.fileTimeoutMs, () => kill.abort(new Error('deadline')));
  // Before the file begins, this drops it from its thread's queue; after, it terminates the thread.
  const onStop = () => kill.abort(stop.reason);
  stop.addEventListener('abort', onStop, { once: true });
  const onStart = () => {
    begun();
    started = performance.now();
    emit({ event: 'file_started', timestamp: now(), file: file.display, worker });
    host = hostFor?.(file.display, emit, deadline);
    deadline.start();
  };

  const onMessage: OnWorkerMessage = (msg, reply) => {
    switch (msg.kind) {
      case 'events':
        for (const e of msg.events) {
          running = e.event === 'test_started' ? e.test : undefined;
          if (e.event === 'test_passed') seen.passed++;
          else if (e.event === 'test_failed') seen.failed++;
          else if (e.event === 'test_skipped') seen.skipped++;
          emit(e);
        }
        break;
      case 'vm_events':
        for (const e of msg.events) {
          if (e.event === 'vm_kept') host?.keep(e.pid);
          emit(e);
        }
        break;
      case 'file_timeout':
        deadline.reset(msg.timeoutMs);
        break;
      case 'host_call':
        serveHostCall(host, msg.id, msg.call, reply);
        break;
    }
  };

  let outcome: FileOutcome;
  try {
    outcome = await pool.runFile(task, onMessage, kill.signal, { lane: worker, started: onStart, drop });
  } catch (e) {
    if (e instanceof FileNotStarted) return undefined;
    const status: FileStatus = deadline.hit ? 'timed_out' : stop.aborted ? 'cancelled' : 'error';
    outcome = { status, ...seen, log: [], error: abnormalEnd(e, status, deadline.timeoutMs, stop, running) };
  } finally {
    deadline.clear();
    stop.removeEventListener('abort', onStop);
  }
  // A worker that was terminated ran no cleanup: its QEMU processes and leases are ours to end.
  host?.dispose();
  const completed: FileCompleted = {
    event: 'file_completed',
    timestamp: now(),
    file: file.display,
    status: outcome.status,
    duration_ms: Math.round(performance.now() - started),
    passed: outcome.passed,
    failed: outcome.failed,
    skipped: outcome.skipped,
    ...(outcome.error ? { error: outcome.error } : {}),
    log: outcome.log,
  };
  emit(completed);
  return completed;
}

function abnormalEnd(e: unknown, status: FileStatus, timeoutMs: number, stop: AbortSignal, runningTest: string | undefined): FailureInfo {
  const during = runningTest === undefined ? '' : ` (during test "${runningTest}")`;
  if (status === 'timed_out') {
    return { message: `timed out after ${(timeoutMs / 1000).toFixed(1)}s${during} and did not stop within ${HARD_KILL_GRACE_MS / 1000}s: its worker thread was terminated` };
  }
  if (status === 'cancelled') {
    const why = (stop.reason as Error | undefined)?.message;
    return { message: `${why === 'fail-fast' ? 'stopped by --fail-fast after another file failed' : 'cancelled (interrupted)'}${during}` };
  }
  return { message: `the worker thread running this file died${during}: ${e instanceof Error ? e.message : String(e)}` };
}
