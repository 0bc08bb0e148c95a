/**
 * The building blocks of the generated binding interfaces
 * (`bindings.generated.ts`): what an implementation of one schema class or
 * global looks like to the TypeScript compiler.
 *
 * `types/` knows nothing of the runtime, so the runtime fills in two blanks by
 * declaration merging (as vitest lets users extend its TestContext):
 * `ApiObjects` maps each schema class to the JS object behind it, and
 * `BindingRuntime` names the runtime's call context, Lua state and per-file
 * services (runner/src/worker/api/objects.ts does both). Until they are filled
 * in, the blanks are `unknown`.
 */

/** Schema class name → the JS class of its objects (filled in by the runtime). */
export interface ApiObjects {}

/** `call`: the context of one call; `lua`: a Lua state; `services`: a file's services (filled in by the runtime). */
export interface BindingRuntime {}

type Blank<K extends string> = BindingRuntime extends { [P in K]: infer T } ? T : unknown;

/** The JS object behind schema class `K`. */
export type ApiObject<K extends string> = ApiObjects extends { [P in K]: infer T } ? T : unknown;
export type BindingCall = Blank<'call'>;
export type BindingLua = Blank<'lua'>;
export type BindingServices = Blank<'services'>;

export type Awaitable<T> = T | Promise<T>;

/**
 * A method on converted values: `args` is the schema's parameter list as a
 * tuple (one tuple per overload); what it returns is converted by the
 * schema's return type. An implementation that waits must be `async`: the
 * runtime checks that Lua may wait before it calls one (bindings.test.ts
 * holds every implementation to that).
 */
export type JsMethod<Self, Args extends unknown[], R> = (self: Self, args: Args, call: BindingCall) => Awaitable<R>;

/** A method that works on the Lua stack itself (self at 1, checked params at 2..) and returns the number of results. */
export interface RawMethod<Self> {
  raw: (L: BindingLua, self: Self) => number;
}

export type MethodBinding<Self, Args extends unknown[], R> = JsMethod<Self, Args, R> | RawMethod<Self>;

/** A read-only field: a getter on converted values, or one that pushes the value itself. */
export type FieldBinding<Self, T> = { get: (self: Self, call: BindingCall) => T } | { rawGet: (L: BindingLua, self: Self) => number };

/** A field the author may set: `set` gets the value converted by the field's type. */
export interface WritableFieldBinding<Self, Get, Set> {
  get: (self: Self, call: BindingCall) => Get;
  set: (self: Self, value: Set, call: BindingCall) => void;
}

/** What every class binding may give besides its members. */
export interface ClassHooks<Self> {
  /** Recognises this class's objects (needed where a union return type names several classes). */
  is?: (value: unknown) => boolean;
  /** The receiver's name in messages: `t` gives "t:assert_eq: ...". Default: the class name. */
  receiver?: string;
  /** A call's name in messages when it should say more than "<receiver>:<method>" (the batch builder adds the operation's number). */
  callLabel?: (self: Self, method: string) => string;
  tostring?: (self: Self) => string;
}

/** Members looked up by name (`lab.web`), for classes whose schema has dynamic members. */
export interface MemberHook<Self, T> {
  member: (self: Self, name: string, call: BindingCall) => T | undefined;
}

/** A global function: converted arguments, or raw (params at 1..). */
export type GlobalFunctionBinding<Args extends unknown[], R> = ((args: Args, call: BindingCall) => Awaitable<R>) | { raw: (L: BindingLua) => number };

/** A global value: the object behind it, made once per file. */
export interface GlobalValueBinding<T> {
  value: (services: BindingServices) => T;
}
