/**
 * The scoped walk: visits every node of a block with the scope in effect at
 * that node. Declarations take effect after their statement (Lua semantics:
 * `local x = x` reads the outer x), except `local function f`, which sees itself.
 */
import { CALLBACK_PARAMS, METHOD_CALLBACK_PARAMS } from './api-model.js';
import { span, type CallNode, type Expression, type FunctionDeclaration, type Node, type Statement } from './ast.js';
import { callArgs } from './ast.js';
import { classType, prim, type LuaType, type Source } from './lua-types.js';
import { bind, lookup, type Binding, type Placed, type Scope } from './scope.js';

export type Visitor = (node: Node, scope: Scope, parent: Node | undefined) => void | 'skip';

export interface Walk {
  source: Source;
  visit?: Visitor;
}

/** How a function expression is used: argument `index` of `call`. */
interface Role {
  call: CallNode;
  index: number;
  scope: Scope;
}

const NO_PLACED: () => Iterable<Placed> = () => [];

/** Statements after index `from`, each with the scope it runs in; then `rest` (later top-level code). */
export function* placedAfter(stmts: Statement[], from: number, scope: Scope, source: Source, rest: () => Iterable<Placed> = NO_PLACED): Iterable<Placed> {
  for (let k = from; k < stmts.length; k++) {
    yield { stmt: stmts[k], scope, source };
    scope = declareStatement(stmts[k], scope, source);
  }
  yield* rest();
}

function valueAt(init: Expression[], i: number): { expr: Expression; index: number } | undefined {
  if (i < init.length) return { expr: init[i], index: 0 };
  const last = init[init.length - 1];
  if (last && (last.type === 'CallExpression' || last.type === 'StringCallExpression' || last.type === 'TableCallExpression')) {
    return { expr: last, index: i - init.length + 1 };
  }
  return undefined;
}

/** The bindings a statement adds to its block's scope (without walking into it). */
export function declareStatement(stmt: Statement, scope: Scope, source: Source, following?: () => Iterable<Placed>): Scope {
  switch (stmt.type) {
    case 'LocalStatement': {
      const before = scope;
      stmt.variables.forEach((v, i) => {
        const val = valueAt(stmt.init, i);
        scope = bind(scope, { name: v.name, decl: { source, range: span(v) }, value: val && { ...val, scope: before, source }, following });
      });
      return scope;
    }
    case 'FunctionDeclaration': {
      if (stmt.identifier?.type !== 'Identifier') return scope;
      const prev = stmt.isLocal ? undefined : lookup(scope, stmt.identifier.name);
      const b: Binding = { name: stmt.identifier.name, decl: prev?.decl ?? { source, range: span(stmt.identifier) } };
      const inner = bind(scope, b);
      b.value = { expr: stmt, index: 0, scope: inner, source };
      return inner;
    }
    case 'AssignmentStatement': {
      const before = scope;
      stmt.variables.forEach((v, i) => {
        if (v.type !== 'Identifier') return;
        const prev = lookup(before, v.name);
        const val = valueAt(stmt.init, i);
        scope = bind(scope, {
          name: v.name,
          decl: prev?.decl ?? { source, range: span(v) },
          value: val && { ...val, scope: before, source },
          following: prev ? prev.following : following,
        });
      });
      return scope;
    }
    default:
      return scope;
  }
}

/** Walks `stmts` in order; returns the scope at the end of the block. */
export function walkBlock(stmts: Statement[], scope: Scope, w: Walk, parent?: Node, rest?: () => Iterable<Placed>): Scope {
  for (let idx = 0; idx < stmts.length; idx++) {
    const stmt = stmts[idx];
    let after: Scope = scope;
    const following = () => placedAfter(stmts, idx + 1, after, w.source, rest);
    const skip = w.visit?.(stmt, scope, parent) === 'skip';
    if (stmt.type === 'FunctionDeclaration' && stmt.isLocal) {
      after = declareStatement(stmt, scope, w.source, following);
      if (!skip) walkFunction(stmt, after, w);
    } else {
      if (!skip) walkStatement(stmt, scope, w);
      after = declareStatement(stmt, scope, w.source, following);
      if (!skip && (stmt.type === 'LocalStatement' || stmt.type === 'AssignmentStatement')) {
        for (const v of stmt.variables) if (v.type === 'Identifier') w.visit?.(v, after, stmt);
      }
    }
    scope = after;
  }
  return scope;
}

function walkStatement(s: Statement, scope: Scope, w: Walk): void {
  switch (s.type) {
    case 'LocalStatement':
      for (const e of s.init) walkExpr(e, scope, w, s);
      return;
    case 'AssignmentStatement':
      for (const e of s.init) walkExpr(e, scope, w, s);
      for (const v of s.variables) if (v.type !== 'Identifier') walkExpr(v, scope, w, s);
      return;
    case 'CallStatement':
      walkExpr(s.expression, scope, w, s);
      return;
    case 'ReturnStatement':
      for (const e of s.arguments) walkExpr(e, scope, w, s);
      return;
    case 'IfStatement':
      for (const c of s.clauses) {
        if (w.visit?.(c, scope, s) === 'skip') continue;
        if (c.type !== 'ElseClause') walkExpr(c.condition, scope, w, c);
        walkBlock(c.body, scope, w, c);
      }
      return;
    case 'WhileStatement':
      walkExpr(s.condition, scope, w, s);
      walkBlock(s.body, scope, w, s);
      return;
    case 'RepeatStatement': {
      const inner = walkBlock(s.body, scope, w, s);
      walkExpr(s.condition, inner, w, s);
      return;
    }
    case 'DoStatement':
      walkBlock(s.body, scope, w, s);
      return;
    case 'ForNumericStatement': {
      for (const e of [s.start, s.end, ...(s.step ? [s.step] : [])]) walkExpr(e, scope, w, s);
      const inner = bind(scope, { name: s.variable.name, decl: { source: w.source, range: span(s.variable) }, fixed: prim('integer') });
      w.visit?.(s.variable, inner, s);
      walkBlock(s.body, inner, w, s);
      return;
    }
    case 'ForGenericStatement': {
      for (const e of s.iterators) walkExpr(e, scope, w, s);
      let inner = scope;
      s.variables.forEach((v, index) => {
        inner = bind(inner, { name: v.name, decl: { source: w.source, range: span(v) }, iter: s.iterators[0] && { expr: s.iterators[0], index, scope, source: w.source } });
      });
      for (const v of s.variables) w.visit?.(v, inner, s);
      walkBlock(s.body, inner, w, s);
      return;
    }
    case 'FunctionDeclaration':
      if (s.identifier && s.identifier.type !== 'Identifier') walkExpr(s.identifier, scope, w, s);
      walkFunction(s, scope, w);
      return;
    default:
      return;
  }
}

export function walkExpr(e: Expression, scope: Scope, w: Walk, parent: Node | undefined, role?: Role): void {
  if (w.visit?.(e, scope, parent) === 'skip') return;
  switch (e.type) {
    case 'FunctionDeclaration':
      walkFunction(e, scope, w, role);
      return;
    case 'CallExpression':
    case 'StringCallExpression':
    case 'TableCallExpression':
      walkExpr(e.base, scope, w, e);
      callArgs(e).forEach((a, index) => walkExpr(a, scope, w, e, { call: e, index, scope }));
      return;
    case 'TableConstructorExpression':
      for (const f of e.fields) {
        if (w.visit?.(f, scope, e) === 'skip') continue;
        if (f.type === 'TableKey') walkExpr(f.key, scope, w, f);
        else if (f.type === 'TableKeyString') w.visit?.(f.key, scope, f);
        walkExpr(f.value, scope, w, f);
      }
      return;
    case 'MemberExpression':
      walkExpr(e.base, scope, w, e);
      w.visit?.(e.identifier, scope, e);
      return;
    case 'IndexExpression':
      walkExpr(e.base, scope, w, e);
      walkExpr(e.index, scope, w, e);
      return;
    case 'BinaryExpression':
    case 'LogicalExpression':
      walkExpr(e.left, scope, w, e);
      walkExpr(e.right, scope, w, e);
      return;
    case 'UnaryExpression':
      walkExpr(e.argument, scope, w, e);
      return;
    default:
      return;
  }
}

/** The type of parameter `k` of a callback passed to a known global (`test(name, function(t) ...)`). */
function callbackParam(fn: FunctionDeclaration, role: Role | undefined, k: number) {
  if (!role || role.call.base.type !== 'Identifier') return undefined;
  const name = role.call.base.name;
  const params = CALLBACK_PARAMS[name];
  if (!params || lookup(role.scope, name) || role.index !== callArgs(role.call).length - 1) return undefined;
  return params[k] ? classType(params[k]) : undefined;
}

const CALLBACK_METHODS = new Set(Object.keys(METHOD_CALLBACK_PARAMS).map((k) => k.slice(k.indexOf(':') + 1)));

/** A callback passed last to a method with callbacks (`vm:batch(function(b) ...)`): its parameter `k`, typed later by the receiver. */
function methodCallback(role: Role | undefined, k: number, source: Source): Binding['callbackOf'] {
  const base = role?.call.base;
  if (!role || base?.type !== 'MemberExpression' || base.indexer !== ':' || !CALLBACK_METHODS.has(base.identifier.name)) return undefined;
  if (role.index !== callArgs(role.call).length - 1) return undefined;
  return { receiver: base.base, method: base.identifier.name, index: k, scope: role.scope, source };
}

/** Binds the parameters (and `self` of `function M:f()`) and walks the body; `args` types the parameters of one call. */
export function walkFunction(fn: FunctionDeclaration, scope: Scope, w: Walk, role?: Role, args?: LuaType[]): Scope {
  let inner = scope;
  // A method (`function M:f(x)`) receives self as its first argument.
  const isMethod = fn.identifier?.type === 'MemberExpression' && fn.identifier.indexer === ':';
  if (fn.identifier?.type === 'MemberExpression' && isMethod) {
    inner = bind(inner, { name: 'self', value: { expr: fn.identifier.base, index: 0, scope, source: w.source } });
  }
  const shift = isMethod ? 1 : 0;
  fn.parameters.forEach((p, k) => {
    if (p.type !== 'Identifier') return;
    const fromCall = args?.[k + shift];
    const fixed = fromCall && fromCall.kind !== 'unknown' ? fromCall : callbackParam(fn, role, k);
    inner = bind(inner, { name: p.name, decl: { source: w.source, range: span(p) }, fixed, callbackOf: fixed ? undefined : methodCallback(role, k, w.source) });
  });
  for (const p of fn.parameters) if (p.type === 'Identifier') w.visit?.(p, inner, fn);
  return walkBlock(fn.body, inner, w, fn);
}
