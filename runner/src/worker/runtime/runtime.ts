/**
 * Per-file runtime state shared by every host function of one Lua state: the
 * pending host call, deadlines and the abort that is in force, the current scope
 * (file or test) with its log and cleanups. `runtimeOf(L)` finds it from any
 * thread of the state.
 */
import type { FileTask } from '@provium/types';
import { stateSlot, type LuaState } from '../lua/api.js';

export type AbortKind = 'test-timeout' | 'file-timeout' | 'skip' | 'exit';

/** An abort ends the running test (or file) and cannot be caught by pcall. */
export interface Abort {
  kind: AbortKind;
  /** The Lua error message raised, and re-raised by every pcall until the scope ends. */
  message: string;
  location?: { file: string; line: number };
}

export type Settled = { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown } | { kind: 'abort' };

export interface PendingHostCall {
  promise: Promise<unknown>;
  /** The suspended thread, for the location of a timeout. */
  L: LuaState;
}

/** The file, or one test: where `print` goes, what is closed when it ends. */
export class Scope {
  readonly log: string[] = [];
  private partial = '';
  /** Made on first use: most scopes never start cancellable host work. */
  private controller: AbortController | undefined;
  private readonly cleanups: (() => void | Promise<void>)[] = [];

  constructor(
    /** The test's name; undefined for the file scope. */
    readonly testName: string | undefined,
    /** "test timed out after 2s"-style message, for a scope with a deadline. */
    readonly timeoutMessage: string | undefined,
  ) {}

  /** Appends text (may hold several lines or a partial one) to the log. */
  write(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.log.push(line);
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /** Cancels the host work started in this scope. */
  abortWork(): void {
    this.controller?.abort();
  }

  onEnd(fn: () => void | Promise<void>): void {
    this.cleanups.push(fn);
  }

  /** Flushes the partial line, aborts pending host work and runs the cleanups (latest first). */
  async end(): Promise<string[]> {
    if (this.partial !== '') {
      this.log.push(this.partial);
      this.partial = '';
    }
    this.abortWork();
    const errors: string[] = [];
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    }
    return errors;
  }
}

const runtimes = stateSlot<Runtime>('provium.runtime');

export class Runtime {
  pending: PendingHostCall | null = null;
  settled: Settled | null = null;
  abort: Abort | null = null;

  /** When the file began, moved later by the time it spent queued for resources (not charged to its timeout). */
  fileStart = performance.now();
  private queued = 0;
  private queuedSince = 0;
  private readonly queueListeners = new Set<() => void>();
  fileTimeoutMs: number;
  /** Earliest of the file and test deadlines (performance.now() time). */
  deadline: number;
  private testDeadline = Infinity;

  readonly fileScope = new Scope(undefined, undefined);
  /** Set before the file's cleanups run: a test or the file itself failed. */
  fileFailed = false;
  /** Called when a test fails; each returns the failure artifacts it kept (name → path). */
  readonly artifactCollectors: ((test: string) => Promise<Record<string, string>>)[] = [];
  /** Run after the top-level code and before each test (`index` 0 is the first): `reset_between_tests`. */
  readonly fileHooks: { afterTopLevel?: () => Promise<void>; beforeTest?: (index: number) => Promise<void> } = {};
  scope: Scope = this.fileScope;
  /** Threads the runtime resumes itself (top-level chunk, test bodies): yielding there is an error. */
  readonly ownThreads = new WeakSet<LuaState>();
  /** Threads that resumed a coroutine where they themselves could not yield (innermost last). */
  readonly blockedResumers: LuaState[] = [];

  constructor(
    readonly L: LuaState,
    readonly task: FileTask,
  ) {
    runtimes.set(L, this);
    this.fileTimeoutMs = task.fileTimeoutMs;
    this.deadline = this.fileStart + this.fileTimeoutMs;
  }

  setFileTimeout(ms: number): void {
    this.fileTimeoutMs = ms;
    this.updateDeadline();
  }

  /** Enters a test scope; `timeoutMs` (already scaled) bounds it when given. */
  enterTest(name: string, timeoutMs: number | undefined, timeoutMessage: string | undefined): Scope {
    this.scope = new Scope(name, timeoutMessage);
    this.testDeadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    this.updateDeadline();
    return this.scope;
  }

  /** Leaves the test scope; clears a test-level abort (a file-level one stays). */
  leaveTest(): void {
    this.scope = this.fileScope;
    this.testDeadline = Infinity;
    this.updateDeadline();
    if (this.abort && (this.abort.kind === 'test-timeout' || this.abort.kind === 'skip')) this.abort = null;
  }

  /**
   * The file waits in the resource pool (at a boot or its claim) until the
   * matching endQueue(): that time moves the file's and the test's deadlines
   * later by as much, and no timeout fires meanwhile.
   */
  beginQueue(): void {
    if (this.queued++ === 0) {
      this.queuedSince = performance.now();
      this.queueChanged();
    }
  }

  endQueue(): void {
    if (--this.queued > 0) return;
    const ms = performance.now() - this.queuedSince;
    this.fileStart += ms;
    this.testDeadline += ms;
    this.updateDeadline();
    this.queueChanged();
  }

  get isQueued(): boolean {
    return this.queued > 0;
  }

  /** Calls `fn` whenever the file starts or stops being queued, until the returned function is called. */
  onQueueChange(fn: () => void): () => void {
    this.queueListeners.add(fn);
    return () => this.queueListeners.delete(fn);
  }

  private queueChanged(): void {
    for (const fn of this.queueListeners) fn();
  }

  private updateDeadline(): void {
    this.deadline = Math.min(this.fileStart + this.fileTimeoutMs, this.testDeadline);
  }

  /** Called once `deadline` has passed: records which timeout fired. */
  timeUp(location: { file: string; line: number } | undefined): Abort {
    if (this.abort) return this.abort;
    const fileUp = performance.now() >= this.fileStart + this.fileTimeoutMs;
    if (fileUp || this.scope.timeoutMessage === undefined) {
      this.abort = { kind: 'file-timeout', message: `file timed out after ${formatMs(this.fileTimeoutMs)} (provium.timeout / --timeout)`, location };
    } else {
      this.abort = { kind: 'test-timeout', message: this.scope.timeoutMessage, location };
    }
    this.scope.abortWork();
    if (this.abort.kind === 'file-timeout') this.fileScope.abortWork();
    return this.abort;
  }

  setAbort(abort: Abort): void {
    if (!this.abort || this.abort.kind === 'skip') this.abort = abort;
  }

  /** The signal given to host work started now: aborted when the current scope ends or times out. */
  get signal(): AbortSignal {
    return this.scope.signal;
  }

  write(text: string): void {
    this.scope.write(text);
  }
}

export function runtimeOf(L: LuaState): Runtime {
  const rt = runtimes.get(L);
  if (!rt) throw new Error('internal: Lua state without a Provium runtime');
  return rt;
}

/** "500ms", "2s", "1.5s", "5m" for a number of milliseconds. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s >= 60 && s % 60 === 0) return s % 3600 === 0 ? `${s / 3600}h` : `${s / 60}m`;
  return `${Number(s.toFixed(3))}s`;
}
