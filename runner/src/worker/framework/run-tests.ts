/**
 * Running the registered tests, in file order, each in its own Lua thread
 * with its own scope (log, cleanups, optional deadline), and reporting them.
 */
import type { FailureInfo, TestEvent, TestSelection } from '@provium/types';
import { lauxlib, lua } from '../lua/api.js';
import { traceback } from '../lua/debug-info.js';
import type { LuaFileState } from '../runtime/create-state.js';
import { runThread } from '../runtime/driver.js';
import { formatMs } from '../runtime/runtime.js';
import { metaSelected } from '../../selection/meta-filter.js';
import { failureFromThread } from './failure.js';
import { TestRun, type FileRun, type RegisteredTest } from './file-run.js';

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Tests chosen by --filter (a substring of the file path or the test name), --tag, --no-tag, --tag-meta and --no-tag-meta. */
export function selectTests(tests: RegisteredTest[], selection: TestSelection, displayPath: string): RegisteredTest[] {
  const { filter, tags, noTags, tagMeta, noTagMeta } = selection;
  const pathMatches = filter === undefined || filter === '' || displayPath.includes(filter);
  return tests.filter(
    (t) =>
      (pathMatches || t.name.includes(filter!)) &&
      (tags.length === 0 || t.tags.some((tag) => tags.includes(tag))) &&
      !t.tags.some((tag) => noTags.includes(tag)) &&
      metaSelected(t.meta, tagMeta, noTagMeta),
  );
}

function staticSkipReason(run: FileRun, test: RegisteredTest, includeSlow: boolean): string | undefined {
  if (run.todo !== undefined) return run.todo;
  if (test.skip !== undefined) return test.skip;
  if (test.slow && !includeSlow) return 'slow test: run with --include-slow';
  return undefined;
}

/** What the collectors kept for a failed test; a collector that fails says so in the test's log. */
async function collectArtifacts(collectors: ((test: string) => Promise<Record<string, string>>)[], test: string, log: string[]): Promise<Record<string, string> | undefined> {
  if (collectors.length === 0) return undefined;
  const all: Record<string, string> = {};
  for (const collect of collectors) {
    try {
      Object.assign(all, await collect(test));
    } catch (e) {
      log.push(`could not keep failure artifacts: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return Object.keys(all).length ? all : undefined;
}

/** Runs one test and reports it; counts the result. */
export async function runTest(state: LuaFileState, run: FileRun, test: RegisteredTest, emit: (e: TestEvent) => void, counts: Counts): Promise<void> {
  const { L, rt, bindings } = state;
  const task = rt.task;
  const base = { file: task.displayPath, test: test.name, meta: test.meta };
  const stamp = () => new Date().toISOString();
  const reason = staticSkipReason(run, test, task.selection.includeSlow);
  if (reason !== undefined) {
    counts.skipped++;
    emit({ event: 'test_skipped', timestamp: stamp(), ...base, reason });
    return;
  }
  emit({ event: 'test_started', timestamp: stamp(), ...base });
  // `timeout = 0`: none, as for the per-file timeout
  const timeoutMs = !test.timeoutSeconds ? undefined : test.timeoutSeconds * 1000 * task.timeoutScale;
  const scope = rt.enterTest(test.name, timeoutMs, timeoutMs === undefined ? undefined : `test '${test.name}' timed out after ${formatMs(timeoutMs)} (the timeout in its meta)`);
  const t = new TestRun(test, scope);
  run.current = t;
  const co = lua.lua_newthread(L);
  const coRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  rt.ownThreads.add(co);
  lua.lua_rawgeti(co, lua.LUA_REGISTRYINDEX, test.fnRef);
  bindings.pushInstance(co, bindings.api.classes.get('TestContext')!, t);
  const start = performance.now();
  const status = await runThread(rt, co, 1);

  let failure: FailureInfo | undefined;
  let skipped: string | undefined;
  const abort = rt.abort;
  if (status === lua.LUA_OK) failure = t.failure;
  else if (abort?.kind === 'skip') {
    if (t.failure) failure = t.failure;
    else skipped = t.skipReason ?? 'skipped';
  } else if (abort !== null) failure = { message: abort.message, location: abort.location, traceback: traceback(L, co, 0) };
  else failure = t.failure ?? failureFromThread(L, co);

  t.finished = true;
  run.current = undefined;
  // A failed test's artifacts are kept before its scope ends: the VMs it created still run.
  scope.failed = failure !== undefined;
  let artifacts = failure !== undefined ? await collectArtifacts(rt.artifactCollectors, test.name, scope.log) : undefined;
  const cleanupErrors = await scope.end();
  rt.leaveTest();
  lauxlib.luaL_unref(L, lua.LUA_REGISTRYINDEX, coRef);
  if (failure === undefined && skipped === undefined && cleanupErrors.length > 0) {
    failure = { message: `cleanup after the test failed: ${cleanupErrors.join('; ')}` };
    artifacts = await collectArtifacts(rt.artifactCollectors, test.name, scope.log);
  }
  const duration_ms = Math.round((performance.now() - start) * 1000) / 1000;
  if (skipped !== undefined) {
    counts.skipped++;
    emit({ event: 'test_skipped', timestamp: stamp(), ...base, reason: skipped });
  } else if (failure !== undefined) {
    counts.failed++;
    emit({ event: 'test_failed', timestamp: stamp(), ...base, duration_ms, error: failure, log: scope.log, ...(artifacts ? { artifacts } : {}) });
  } else {
    counts.passed++;
    emit({ event: 'test_passed', timestamp: stamp(), ...base, duration_ms, log: scope.log });
  }
}
