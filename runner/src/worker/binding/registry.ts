/**
 * Implementations of the schema's classes and globals. The runtime exposes a
 * schema method to Lua when its status is 'available' AND an implementation is
 * registered here; arguments are checked against the schema before the
 * implementation runs (see check.ts), and JS results are converted back by the
 * schema's return type (convert.ts).
 *
 * A JS implementation receives converted arguments and may return a Promise:
 * the Lua thread then waits (a host call) without blocking the event loop.
 * The runtime's own implementations are typed against the schema in api/
 * (api/bindings.ts is their table); this registry is the loose form the
 * dispatcher reads, which tests also fill for schemas of their own.
 */
import type { FileTask, HostServices, Lua, VmEvent } from '@provium/types';
import type { LuaState } from '../lua/api.js';
import type { ResourceKind } from '../runtime/runtime.js';
import type { SourceLocation } from '../lua/debug-info.js';

/** Per-file services for implementations. */
export interface FileServices {
  readonly task: FileTask;
  /** The running test's name; undefined in top-level code. */
  readonly testName: string | undefined;
  /** In the cleanups of a test: whether it failed. */
  readonly testFailed: boolean;
  /** --timeout-scale: multiply every timeout an implementation applies. */
  readonly timeoutScale: number;
  /** Adds text to the current test's log (the file's log outside tests). */
  log(text: string): void;
  /** Runs `fn` when the current test ends (the file, in top-level code), in the order of what it closes (runtime.ts, ResourceKind). */
  onScopeEnd(fn: () => void | Promise<void>, kind?: ResourceKind): void;
  /** Runs `fn` when the file ends. */
  onFileEnd(fn: () => void | Promise<void>, kind?: ResourceKind): void;
  /** Awaits `work`, a wait for resources (the pool, a claim): its time is not charged to the file's or the test's timeout. */
  queued<T>(work: Promise<T>): Promise<T>;
  /** Sets what runs after the top-level code and before each selected test (one of each per file). */
  setFileHooks(hooks: { afterTopLevel: () => Promise<void>; beforeTest: (index: number) => Promise<void> } | undefined): void;
  /** In the file's cleanups: whether a test or the file itself failed. */
  readonly fileFailed: boolean;
  /** `collect` runs when a test fails and returns the artifacts it kept for it (name → path), reported with the failure. */
  onTestFailure(collect: (test: string) => Promise<Record<string, string>>): void;
  /** The main thread's shared services (pool, images, QEMU tracking); absent when nothing hosts the run. */
  readonly host: HostServices | undefined;
  /** Sends VM lifecycle events to the reporters. */
  vmEvent(event: VmEvent): void;
  /** The file's watchdog in seconds, as the author set it (before scaling). */
  readonly fileTimeoutSeconds: number;
  setFileTimeout(seconds: number): void;
}

export interface CallContext {
  /** Aborted when the current test or the file times out or ends: pass it to cancellable work. */
  readonly signal: AbortSignal;
  /** The author's line that made the call: read it before the implementation's first await (it reads the Lua stack). */
  readonly where: SourceLocation | undefined;
  readonly services: FileServices;
  /** The signature that matched: 0 for the main one, i for `overloads[i - 1]`. */
  readonly overload: number;
}

/** Gets converted arguments (by the schema's param types; absent ones undefined); returns a value or a Promise of one. */
export type JsMethod<T> = (self: T, args: unknown[], call: CallContext) => unknown;
/**
 * Works on the Lua stack directly (self at 1, checked params at 2.., absent ones nil)
 * and returns the number of results, like a lua_CFunction.
 */
export type RawMethod<T> = (L: LuaState, self: T) => number;
export type MethodImpl<T> = JsMethod<T> | { raw: RawMethod<T> };

export interface FieldImpl<T> {
  get?: (self: T, call: CallContext) => unknown;
  /** Pushes the value itself (e.g. a Lua table the author passed); returns 1. Wins over `get`. */
  rawGet?: (L: LuaState, self: T) => number;
  /** Gets the value converted by the field's type (durations in seconds). */
  set?: (self: T, value: unknown, call: CallContext) => void;
}

export interface ClassImpl<T = any> {
  /** Recognises this class's objects (needed where a union return type names several classes). */
  is?: (value: unknown) => boolean;
  /** The receiver's name in messages: `t` gives "t:assert_eq: ...". Default: the class name. */
  receiver?: string;
  /** A call's name in messages when it should say more than "<receiver>:<method>". */
  callLabel?: (self: T, method: string) => string;
  methods?: Record<string, MethodImpl<T>>;
  fields?: Record<string, FieldImpl<T>>;
  /** Members looked up by name (`lab.web`), for classes with dynamic members. */
  member?: (self: T, name: string, call: CallContext) => object | undefined;
  tostring?: (self: T) => string;
}

/** A global function: converted arguments, or raw (params at 1..). */
export type GlobalFunctionImpl = ((args: unknown[], call: CallContext) => unknown) | { raw: (L: LuaState) => number };
/** A global value: the object behind it (an instance of the global's class), made once per file. */
export interface GlobalValueImpl {
  value: (services: FileServices) => object;
}
export type GlobalImpl = GlobalFunctionImpl | GlobalValueImpl;

export class BindingRegistry {
  private readonly classes = new Map<string, ClassImpl>();
  private readonly globals = new Map<string, GlobalImpl>();
  /** Bumped on every change, so compiled views know they are stale. */
  version = 0;

  /** The registry of a whole typed table (api/bindings.ts): its types were checked against the schema at compile time. */
  static from(bindings: Lua.ApiBindings): BindingRegistry {
    const registry = new BindingRegistry();
    for (const [name, impl] of Object.entries(bindings.classes)) registry.registerClass(name, impl as unknown as ClassImpl);
    for (const [name, impl] of Object.entries(bindings.globals)) registry.registerGlobal(name, impl as unknown as GlobalImpl);
    return registry;
  }

  /** Registers the implementation of a class; each class once. */
  registerClass<T>(name: string, impl: ClassImpl<T>): void {
    if (this.classes.has(name)) throw new Error(`binding: class ${name} is already registered`);
    this.classes.set(name, impl);
    this.version++;
  }

  registerGlobal(name: string, impl: GlobalImpl): void {
    if (this.globals.has(name)) throw new Error(`binding: global ${name} is already registered`);
    this.globals.set(name, impl);
    this.version++;
  }

  classImpl(name: string): ClassImpl | undefined {
    return this.classes.get(name);
  }

  globalImpl(name: string): GlobalImpl | undefined {
    return this.globals.get(name);
  }

  classNames(): string[] {
    return [...this.classes.keys()];
  }

  globalNames(): string[] {
    return [...this.globals.keys()];
  }
}
