/**
 * Scopes are immutable linked lists of bindings, so a binding can keep the
 * scope it was declared in and be typed lazily, long after the walk moved on.
 * A reassignment (`x = x:boot()`) adds a new link for the same name.
 */
import type { Expression, Statement } from './ast.js';
import type { Loc, LuaType, Source } from './lua-types.js';

export interface Placed {
  stmt: Statement;
  scope: Scope;
  source: Source;
}

export interface Binding {
  name: string;
  /** Where the name was declared (kept across reassignments, for go-to-definition). */
  decl?: Loc;
  /** The value last assigned: `index` picks one of several values of a call. */
  value?: { expr: Expression; index: number; scope: Scope; source: Source };
  /** A `for ... in` variable: value `index` of iterating `expr`. */
  iter?: { expr: Expression; index: number; scope: Scope; source: Source };
  /** A type known without looking at a value (the `t` of a test body, loop counters). */
  fixed?: LuaType;
  /** Parameter `index` of a callback passed to `receiver:method(...)`, typed by the receiver's class (`vm:batch(function(b) ...)`). */
  callbackOf?: { receiver: Expression; method: string; index: number; scope: Scope; source: Source };
  /** Statements after the declaration in the same block: where `M.x = ...` adds fields to a table. */
  following?: () => Iterable<Placed>;
  cache?: { epoch: number; type: LuaType };
  resolving?: boolean;
}

export interface ScopeLink {
  name: string;
  binding: Binding;
  parent: Scope;
}

export type Scope = ScopeLink | null;

export function bind(scope: Scope, binding: Binding): Scope {
  return { name: binding.name, binding, parent: scope };
}

export function lookup(scope: Scope, name: string): Binding | undefined {
  for (let s = scope; s; s = s.parent) if (s.name === name) return s.binding;
  return undefined;
}

/** Every visible binding, innermost first, one per name. */
export function visibleBindings(scope: Scope): Binding[] {
  const seen = new Set<string>();
  const out: Binding[] = [];
  for (let s = scope; s; s = s.parent) {
    if (seen.has(s.name)) continue;
    seen.add(s.name);
    out.push(s.binding);
  }
  return out;
}
