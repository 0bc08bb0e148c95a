/**
 * The test framework's per-file state: tests registered by the top-level code
 * (in file order), `todo`, and the test running now.
 */
import type { FailureInfo, TestMeta } from '@provium/types';
import { stateSlot, type LuaState } from '../lua/api.js';
import type { SourceLocation } from '../lua/debug-info.js';
import type { Runtime, Scope } from '../runtime/runtime.js';

export interface RegisteredTest {
  name: string;
  where: SourceLocation | undefined;
  /** Registry refs of the body and of the meta table (`t.meta`; LUA_REFNIL until asked for when the test had none). */
  fnRef: number;
  metaRef: number;
  /** The meta as reported in events (JSON-safe). */
  meta: TestMeta;
  slow: boolean;
  tags: string[];
  skip: string | undefined;
  /** Per-test timeout in seconds, before --timeout-scale. */
  timeoutSeconds: number | undefined;
}

/** The object behind a test's `t`. */
export class TestRun {
  failure: FailureInfo | undefined;
  /** Set by t:skip(). */
  skipReason: string | undefined;
  finished = false;
  /** >0 while t:assert_raises runs its function: failures there are expected, not recorded. */
  expectingErrors = 0;

  constructor(
    readonly test: RegisteredTest,
    readonly scope: Scope,
  ) {}

  get name(): string {
    return this.test.name;
  }
}

export class FileRun {
  readonly tests: RegisteredTest[] = [];
  readonly byName = new Map<string, RegisteredTest>();
  todo: string | undefined;
  /** Top-level code runs first; `test()`/`todo()` are only allowed there. */
  phase: 'top' | 'tests' = 'top';
  current: TestRun | undefined;

  constructor(
    L: LuaState,
    readonly rt: Runtime,
  ) {
    runs.set(L, this);
  }
}

const runs = stateSlot<FileRun>('provium.fileRun');

export function fileRunOf(L: LuaState): FileRun {
  const run = runs.get(L);
  if (!run) throw new Error('internal: Lua state without a test file run');
  return run;
}
