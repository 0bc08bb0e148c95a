/**
 * One test file, start to end: a fresh Lua state, the top-level chunk in a
 * runtime thread (it registers tests and sets file settings), then the
 * selected tests in file order, then the file's cleanups. Test events stream
 * out in batches through `emit`; the result is the file's FileOutcome.
 */
import { readFileSync } from 'node:fs';
import { API, type ApiSchema, type FailureInfo, type FileOutcome, type FileStatus, type FileTask, type HostServices, type TestEvent, type VmEvent, type WorkerMessage } from '@provium/types';
import { lauxlib, lua, type LuaState } from './lua/api.js';
import { traceback } from './lua/debug-info.js';
import { rawErrorText } from './lua/values.js';
import { compileApi } from './binding/compile.js';
import type { BindingRegistry, FileServices } from './binding/registry.js';
import { defaultRegistry } from './api/bindings.js';
import { EventBatcher } from './event-batcher.js';
import { failureFromThread, splitLocation } from './framework/failure.js';
import { FileRun } from './framework/file-run.js';
import { runTest, selectTests, type Counts } from './framework/run-tests.js';
import { callTracer } from './runtime/call-trace.js';
import { createLuaState, type LuaFileState } from './runtime/create-state.js';
import { runThread, stopDeadlineTimer } from './runtime/driver.js';
import { loadSource } from './runtime/require.js';
import type { Runtime } from './runtime/runtime.js';
import { describeActual } from './binding/check.js';
import { genericToJs } from './binding/convert.js';
import { LabSnapshotHandle, SnapshotHandle } from './vm/snapshots.js';
import { primeFixtureSpares } from './vm/fixture-spares.js';

export interface RunOptions {
  /** Another schema/registry than the built-in ones (tests of the binding layer). */
  schema?: ApiSchema;
  registry?: BindingRegistry;
  /** The main thread's services (over the task's port in a worker; direct in-process). */
  host?: HostServices;
}

/**
 * The file's services for the API implementations. A class, not an object
 * literal: V8 (Node 20) keeps the closure context of a literal's getter alive
 * through young-generation GCs, and with it the whole finished Lua state.
 * Methods are arrow fields so implementations may pass them around unbound.
 */
class RunFileServices implements FileServices {
  readonly task: FileTask;
  readonly timeoutScale: number;

  constructor(
    private readonly rt: Runtime,
    private readonly events: EventBatcher,
    readonly host: HostServices | undefined,
  ) {
    this.task = rt.task;
    this.timeoutScale = rt.task.timeoutScale;
  }

  get testName(): string | undefined {
    return this.rt.scope.testName;
  }
  get testFailed(): boolean {
    return this.rt.scope.failed;
  }
  get fileFailed(): boolean {
    return this.rt.fileFailed;
  }
  /** 0 for none, as `provium.timeout = 0` sets it. */
  get fileTimeoutSeconds(): number {
    const ms = this.rt.fileTimeoutMs;
    return ms === Infinity ? 0 : ms / 1000 / this.timeoutScale;
  }

  vmEvent = (event: VmEvent): void => this.events.send({ kind: 'vm_events', events: [event] });
  log = (text: string): void => this.rt.write(text);
  onScopeEnd: FileServices['onScopeEnd'] = (fn, kind) => this.rt.scope.onEnd(fn, kind);
  onFileEnd: FileServices['onFileEnd'] = (fn, kind) => this.rt.fileScope.onEnd(fn, kind);
  queued = async <T>(work: Promise<T>): Promise<T> => {
    this.rt.beginQueue();
    try {
      return await work;
    } finally {
      this.rt.endQueue();
    }
  };
  setFileHooks: FileServices['setFileHooks'] = (hooks) => {
    this.rt.fileHooks.afterTopLevel = hooks?.afterTopLevel;
    this.rt.fileHooks.beforeTest = hooks?.beforeTest;
  };
  onTestFailure: FileServices['onTestFailure'] = (collect) => {
    this.rt.artifactCollectors.push(collect);
  };
  setFileTimeout = (seconds: number): void => {
    const timeoutMs = seconds === 0 ? Infinity : seconds * 1000 * this.timeoutScale;
    this.rt.setFileTimeout(timeoutMs);
    this.events.send({ kind: 'file_timeout', timeoutMs });
  };
}

/** Runs the test file of `task`; `emit` receives batches of test events and file_timeout notices. */
export async function runLuaFile(task: FileTask, emit: (msg: WorkerMessage) => void, options: RunOptions = {}): Promise<FileOutcome> {
  const { outcome, events } = await runLuaFileHeld(task, emit, options);
  if (events.length > 0) emit({ kind: 'events', events });
  return outcome;
}

/**
 * As runLuaFile, but the last batch of events is returned rather than emitted,
 * so that a worker sends it with the outcome: a quick file costs one message.
 */
export async function runLuaFileHeld(task: FileTask, emit: (msg: WorkerMessage) => void, options: RunOptions = {}): Promise<{ outcome: FileOutcome; events: TestEvent[] }> {
  const events = new EventBatcher(emit);
  let state: LuaFileState | undefined;
  let outcome: FileOutcome;
  try {
    const api = compileApi(options.schema ?? API, options.registry ?? defaultRegistry);
    if (options.host && !task.fixture) {
      primeFixtureSpares(options.host, task.file, task.timeoutScale);
    }
    state = createLuaState(task, api, (rt) => new RunFileServices(rt, events, options.host));
    outcome = await runFile(state, events);
  } catch (e) {
    const message = e instanceof Error ? (e.stack ?? e.message) : String(e);
    const log = state?.rt.fileScope.log ?? [];
    if (state) await state.rt.fileScope.end();
    outcome = { status: 'error', passed: 0, failed: 0, skipped: 0, error: { message: `internal error in the Provium runtime: ${message}` }, log };
  }
  if (state) stopDeadlineTimer(state.rt);
  callTracer?.flush();
  return { outcome, events: events.take() };
}

async function runFile(state: LuaFileState, events: EventBatcher): Promise<FileOutcome> {
  const { L, rt } = state;
  const task = rt.task;
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  let status: FileStatus | undefined;
  let error: FailureInfo | undefined;
  let fixtureResult: FileOutcome['fixtureResult'];

  let source: Buffer | undefined;
  try {
    source = readFileSync(task.file);
  } catch (e) {
    status = 'error';
    error = { message: `cannot read the test file: ${(e as Error).message}` };
  }

  if (source !== undefined) {
    const run = new FileRun(L, rt);
    const co = lua.lua_newthread(L);
    const coRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    rt.ownThreads.add(co);
    if (loadSource(co, source, task.displayPath) !== lua.LUA_OK) {
      status = 'error';
      error = splitLocation(rawErrorText(co, -1), undefined);
    } else if ((await runThread(rt, co, 0)) !== lua.LUA_OK) {
      [status, error] = fileFailure(state, co);
    }
    if (status === undefined && task.fixture) [status, error, fixtureResult] = fixtureReturn(co, task.fixture.name);
    lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, coRef);
    run.phase = 'tests';
    if (status === undefined) status = await fileHook(() => rt.fileHooks.afterTopLevel?.(), 'after the top-level code', (e) => (error = e));
    if (status === undefined) {
      let index = 0;
      for (const test of selectTests(run.tests, task.selection, task.displayPath)) {
        const i = index++;
        status = await fileHook(() => rt.fileHooks.beforeTest?.(i), `before test "${test.name}"`, (e) => (error = e));
        if (status !== undefined) break;
        await runTest(state, run, test, (e) => events.add(e), counts);
        if (rt.abort !== null) {
          [status, error] = fileFailure(state, undefined);
          break;
        }
      }
    }
  }

  rt.fileFailed = counts.failed > 0 || status !== undefined;
  const cleanupErrors = await rt.fileScope.end();
  if (cleanupErrors.length > 0 && status === undefined) {
    status = 'error';
    error = { message: `cleanup after the file failed: ${cleanupErrors.join('; ')}` };
  }
  status ??= counts.failed > 0 ? 'failed' : counts.passed > 0 ? 'passed' : counts.skipped > 0 ? 'skipped' : 'empty';
  return { status, ...counts, ...(error ? { error } : {}), ...(fixtureResult ? { fixtureResult } : {}), log: rt.fileScope.log };
}

/** A file hook's failure ends the file with an error naming the hook. */
async function fileHook(run: () => Promise<void> | undefined, when: string, setError: (e: FailureInfo) => void): Promise<FileStatus | undefined> {
  try {
    await run();
    return undefined;
  } catch (e) {
    setError({ message: `provium.reset_between_tests ${when}: ${e instanceof Error ? e.message : String(e)}` });
    return 'error';
  }
}

/** What a fixture builder's chunk returned (on top of `co`'s stack): a Snapshot or a LabSnapshot, else a build error. */
function fixtureReturn(co: LuaState, name: string): [FileStatus | undefined, FailureInfo | undefined, FileOutcome['fixtureResult']] {
  const top = lua.lua_gettop(co);
  const value = top > 0 ? genericToJs(co, 1, new Set()) : undefined;
  if (value instanceof SnapshotHandle) return [undefined, undefined, { kind: 'vm', path: value.file }];
  if (value instanceof LabSnapshotHandle) return [undefined, undefined, { kind: 'lab', path: value.dir }];
  const got = top === 0 ? 'nothing' : describeActual(co, 1);
  return ['error', { message: `fixture "${name}" must return a Snapshot (return vm:snapshot()) or a LabSnapshot (return provium:snapshot()); it returned ${got}` }, undefined];
}

/** Status and error of a file ended by its top-level code (thread `co`) or by a file-level abort. */
function fileFailure(state: LuaFileState, co: LuaState | undefined): [FileStatus, FailureInfo] {
  const { L, rt } = state;
  const abort = rt.abort;
  const tb = co ? traceback(L, co, 0) : undefined;
  if (abort?.kind === 'file-timeout') return ['timed_out', { message: abort.message, location: abort.location, ...(tb ? { traceback: tb } : {}) }];
  if (abort !== null) return ['error', { message: abort.message, location: abort.location, ...(tb ? { traceback: tb } : {}) }];
  return ['error', failureFromThread(L, co!)];
}

