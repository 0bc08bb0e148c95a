/**
 * Type inference: what a Lua expression evaluates to, following locals,
 * reassignments, chained calls, function returns, upvalues and helper
 * modules. Everything is lazy and memoized per analysis epoch.
 */
import type { FieldSpec, FunctionSpec } from '@provium/types';
import { classSpec, globalSpec, METHOD_CALLBACK_PARAMS, recordSpec, schemaType, STRING_METHODS } from './api-model.js';
import { span, type Expression, type FunctionDeclaration, type Node } from './ast.js';
import { decodeLuaString } from './lua-strings.js';
import { alternatives, classType, describeType, prim, UNKNOWN, type Loc, type LuaType, type Member, type Source } from './lua-types.js';
import type { ProjectView } from './project-view.js';
import { lookup, type Binding, type Scope } from './scope.js';
import { walkFunction } from './walk.js';

export interface InferCtx {
  project: ProjectView;
  /** Caches made under another epoch are stale (bumped by every edit). */
  epoch: number;
}

const MAX_DEPTH = 40;
let depth = 0;

/** The value of a string literal node, or undefined for anything else. */
export function stringValue(e: Node | undefined): string | undefined {
  return e?.type === 'StringLiteral' ? decodeLuaString(e.raw) : undefined;
}

export function typeOf(e: Expression, scope: Scope, source: Source, ctx: InferCtx): LuaType {
  if (depth > MAX_DEPTH) return UNKNOWN;
  depth++;
  try {
    return infer(e, scope, source, ctx);
  } finally {
    depth--;
  }
}

function infer(e: Expression, scope: Scope, source: Source, ctx: InferCtx): LuaType {
  switch (e.type) {
    case 'StringLiteral': return prim('string');
    case 'NumericLiteral': return prim(Number.isInteger(e.value) ? 'integer' : 'number');
    case 'BooleanLiteral': return prim('boolean');
    case 'NilLiteral': return prim('nil');
    case 'Identifier': {
      const b = lookup(scope, e.name);
      return b ? bindingType(b, ctx) : globalType(e.name);
    }
    case 'FunctionDeclaration': return functionType(e, scope, source, ctx);
    case 'TableConstructorExpression': return tableType(e, scope, source, ctx);
    case 'MemberExpression': {
      const r = memberOf(typeOf(e.base, scope, source, ctx), e.identifier.name, e.indexer, ctx);
      return r.kind === 'found' ? r.member.type() : UNKNOWN;
    }
    case 'IndexExpression': {
      const base = typeOf(e.base, scope, source, ctx);
      if (base.kind === 'list') return base.of;
      if (base.kind === 'map') return base.value;
      const key = stringValue(e.index);
      if (key !== undefined) {
        const r = memberOf(base, key, '.', ctx);
        return r.kind === 'found' ? r.member.type() : UNKNOWN;
      }
      return UNKNOWN;
    }
    case 'CallExpression':
    case 'StringCallExpression':
    case 'TableCallExpression':
      return callType(e, scope, source, ctx);
    case 'LogicalExpression': {
      if (e.operator === 'and') return typeOf(e.right, scope, source, ctx);
      const left = typeOf(e.left, scope, source, ctx);
      return left.kind === 'unknown' || (left.kind === 'prim' && left.name === 'nil') ? typeOf(e.right, scope, source, ctx) : left;
    }
    case 'BinaryExpression':
      if (e.operator === '..') return prim('string');
      if (['==', '~=', '<', '<=', '>', '>='].includes(e.operator)) return prim('boolean');
      return prim('number');
    case 'UnaryExpression':
      return e.operator === 'not' ? prim('boolean') : e.operator === '#' ? prim('integer') : prim('number');
    default:
      return UNKNOWN;
  }
}

function globalType(name: string): LuaType {
  const g = globalSpec(name);
  if (!g) return UNKNOWN;
  if (g.kind === 'value' && g.type) return name === 'provium' ? classType(g.type, { root: true }) : schemaType(g.type);
  return g.fn ? { kind: 'api', spec: g.fn } : UNKNOWN;
}

export function bindingType(b: Binding, ctx: InferCtx): LuaType {
  if (b.fixed) return b.fixed;
  if (b.cache?.epoch === ctx.epoch) return b.cache.type;
  if (b.resolving) return UNKNOWN;
  b.resolving = true;
  let t: LuaType = UNKNOWN;
  try {
    if (b.iter) t = iterationType(typeOf(iterated(b.iter.expr), b.iter.scope, b.iter.source, ctx), b.iter.index);
    else if (b.callbackOf) t = callbackParamType(b.callbackOf, ctx);
    else if (b.value && b.value.index === 0) {
      t = b.value.expr.type === 'TableConstructorExpression' && b.following
        ? tableType(b.value.expr, b.value.scope, b.value.source, ctx, b)
        : typeOf(b.value.expr, b.value.scope, b.value.source, ctx);
    }
  } finally {
    b.resolving = false;
  }
  b.cache = { epoch: ctx.epoch, type: t };
  return t;
}

function callbackParamType(c: NonNullable<Binding['callbackOf']>, ctx: InferCtx): LuaType {
  const receiver = typeOf(c.receiver, c.scope, c.source, ctx);
  const params = receiver.kind === 'class' ? METHOD_CALLBACK_PARAMS[`${receiver.name}:${c.method}`] : undefined;
  return params?.[c.index] ? classType(params[c.index]) : UNKNOWN;
}

/** `ipairs(x)` / `pairs(x)` iterate x. */
function iterated(e: Expression): Expression {
  if (e.type === 'CallExpression' && e.base.type === 'Identifier' && (e.base.name === 'ipairs' || e.base.name === 'pairs') && e.arguments[0]) return e.arguments[0];
  return e;
}

function iterationType(t: LuaType, index: number): LuaType {
  if (t.kind === 'list') return index === 0 ? prim('integer') : index === 1 ? t.of : UNKNOWN;
  if (t.kind === 'map') return index === 0 ? t.key : index === 1 ? t.value : UNKNOWN;
  return UNKNOWN;
}

interface ReturnMemo {
  scope: Scope;
  epoch: number;
  type: LuaType;
  busy: boolean;
}
const returnMemo = new WeakMap<FunctionDeclaration, Map<string, ReturnMemo>>();

/** The type a function returns (its first `return` whose value has a known type), for arguments of types `args`. */
export function returnsOf(fn: FunctionDeclaration, scope: Scope, source: Source, ctx: InferCtx, args: LuaType[] = []): LuaType {
  const key = args.map(describeType).join(',');
  let memos = returnMemo.get(fn);
  if (!memos) returnMemo.set(fn, (memos = new Map()));
  const memo = memos.get(key);
  if (memo && memo.scope === scope && memo.epoch === ctx.epoch) return memo.busy ? UNKNOWN : memo.type;
  const entry: ReturnMemo = { scope, epoch: ctx.epoch, type: UNKNOWN, busy: true };
  memos.set(key, entry);
  const found: { expr: Expression; scope: Scope }[] = [];
  walkFunction(fn, scope, {
    source,
    visit: (n, s) => {
      if (n.type === 'FunctionDeclaration' && n !== fn) return 'skip';
      if (n.type === 'ReturnStatement' && n.arguments[0]) found.push({ expr: n.arguments[0], scope: s });
    },
  }, undefined, args);
  for (const r of found) {
    const t = typeOf(r.expr, r.scope, source, ctx);
    if (t.kind !== 'unknown' && !(t.kind === 'prim' && t.name === 'nil')) {
      entry.type = t;
      break;
    }
  }
  entry.busy = false;
  return entry.type;
}

export function functionType(fn: FunctionDeclaration, scope: Scope, source: Source, ctx: InferCtx): LuaType {
  const id = fn.identifier;
  const name = id?.type === 'Identifier' ? id.name : id?.type === 'MemberExpression' ? id.identifier.name : undefined;
  return {
    kind: 'function',
    name,
    params: fn.parameters.map((p) => (p.type === 'Identifier' ? p.name : '...')),
    returns: (args) => returnsOf(fn, scope, source, ctx, args),
    loc: { source, range: span(id ?? fn) },
  };
}

/** A table constructor's type; with `owner`, fields assigned later (`M.f = ...`, `function M.f()`) count too. */
function tableType(t: Expression & { type: 'TableConstructorExpression' }, scope: Scope, source: Source, ctx: InferCtx, owner?: Binding): LuaType {
  let cached: Map<string, Member> | undefined;
  const fields = () => {
    if (cached) return cached;
    const m = new Map<string, Member>();
    cached = m;
    for (const f of t.fields) {
      if (f.type !== 'TableKeyString') continue;
      m.set(f.key.name, { name: f.key.name, type: () => typeOf(f.value, scope, source, ctx), loc: { source, range: span(f.key) } });
    }
    if (owner?.following) {
      for (const p of owner.following()) {
        const s = p.stmt;
        if (s.type === 'FunctionDeclaration' && s.identifier?.type === 'MemberExpression' && s.identifier.base.type === 'Identifier' && s.identifier.base.name === owner.name) {
          const key = s.identifier.identifier.name;
          m.set(key, { name: key, type: () => functionType(s, p.scope, p.source, ctx), loc: { source: p.source, range: span(s.identifier.identifier) } });
        } else if (s.type === 'AssignmentStatement') {
          s.variables.forEach((v, i) => {
            if (v.type === 'MemberExpression' && v.indexer === '.' && v.base.type === 'Identifier' && v.base.name === owner.name && s.init[i]) {
              const init = s.init[i];
              m.set(v.identifier.name, { name: v.identifier.name, type: () => typeOf(init, p.scope, p.source, ctx), loc: { source: p.source, range: span(v.identifier) } });
            }
          });
        }
      }
    }
    return m;
  };
  return { kind: 'table', fields, loc: { source, range: span(t) } };
}

function callType(e: Expression & { base: Expression }, scope: Scope, source: Source, ctx: InferCtx): LuaType {
  const base = e.base;
  const args = e.type === 'CallExpression' ? e.arguments : e.type === 'StringCallExpression' ? [e.argument] : e.type === 'TableCallExpression' ? [e.arguments] : [];
  if (base.type === 'MemberExpression' && base.indexer === ':') {
    const recv = typeOf(base.base, scope, source, ctx);
    const name = base.identifier.name;
    if (name === 'lab_fixture' && isLab(recv)) {
      const fixture = stringValue(args[0]);
      return classType('Lab', fixture !== undefined ? { fixture } : undefined);
    }
    const r = memberOf(recv, name, ':', ctx);
    if (r.kind !== 'found') return UNKNOWN;
    // Schema and string methods give their result type; a table's function is called with self first.
    const t = r.member.type();
    return t.kind === 'function' ? t.returns([recv, ...args.map((a) => typeOf(a, scope, source, ctx))]) : t;
  }
  if (base.type === 'Identifier' && base.name === 'require' && !lookup(scope, 'require')) {
    const name = stringValue(args[0]);
    const mod = name !== undefined ? ctx.project.module(name) : undefined;
    if (!mod || name === undefined) return UNKNOWN;
    const t = mod.type();
    return t.kind === 'table' ? { ...t, module: name } : t;
  }
  const callee = typeOf(base, scope, source, ctx);
  if (callee.kind === 'function') {
    // `M.f(x)` passes x as the first parameter; `M:f(x)` passes M as self first (bound separately).
    return callee.returns(args.map((a) => typeOf(a, scope, source, ctx)));
  }
  if (callee.kind === 'api') return schemaType(callee.spec.returns);
  return UNKNOWN;
}

export function isLab(t: LuaType): boolean {
  return alternatives(t).some((a) => a.kind === 'class' && a.name === 'Lab');
}

export type MemberResult =
  | { kind: 'found'; member: Member; owner: string; method?: FunctionSpec; field?: FieldSpec }
  /** `other`: the name exists, but as a method (used with `.`) or as a field (used with `:`). */
  | { kind: 'missing'; owner: string; candidates: string[]; other?: 'method' | 'field' }
  | { kind: 'unchecked' };

const UNCHECKED: MemberResult = { kind: 'unchecked' };

function methodMember(m: FunctionSpec): Member {
  return { name: m.name, type: () => schemaType(m.returns), doc: m.doc };
}

/** Looks up `name` on a value of type `t`, as `t.name` ('.') or `t:name(...)` (':'). */
export function memberOf(t: LuaType, name: string, indexer: '.' | ':', ctx: InferCtx): MemberResult {
  switch (t.kind) {
    case 'class': return classMember(t, name, indexer, ctx);
    case 'record': {
      const r = recordSpec(t.name);
      if (!r || indexer === ':') return UNCHECKED;
      const f = r.fields.find((x) => x.name === name);
      if (f) return { kind: 'found', owner: r.name, member: { name, type: () => schemaType(f.type), doc: f.doc } };
      return r.open ? UNCHECKED : { kind: 'missing', owner: r.name, candidates: r.fields.map((x) => x.name) };
    }
    case 'union': {
      const results = t.of.map((a) => memberOf(a, name, indexer, ctx));
      const found = results.find((r) => r.kind === 'found');
      if (found) return found;
      if (results.some((r) => r.kind === 'unchecked')) return UNCHECKED;
      const missing = results as Extract<MemberResult, { kind: 'missing' }>[];
      return { kind: 'missing', owner: missing.map((m) => m.owner).join('|'), candidates: [...new Set(missing.flatMap((m) => m.candidates))], other: missing.find((m) => m.other)?.other };
    }
    case 'table': {
      const m = t.fields().get(name);
      if (m) return { kind: 'found', owner: describeOwner(t), member: m };
      return t.module ? { kind: 'missing', owner: describeOwner(t), candidates: [...t.fields().keys()] } : UNCHECKED;
    }
    case 'prim':
      if ((t.name === 'string' || t.name === 'bytes') && indexer === ':' && STRING_METHODS.includes(name)) {
        return { kind: 'found', owner: 'string', member: { name, type: () => (['len', 'byte', 'find'].includes(name) ? prim('integer') : prim('string')) } };
      }
      return UNCHECKED;
    default:
      return UNCHECKED;
  }
}

function describeOwner(t: LuaType & { kind: 'table' }): string {
  return t.module ? `module "${t.module}"` : 'table';
}

function classMember(t: LuaType & { kind: 'class' }, name: string, indexer: '.' | ':', ctx: InferCtx): MemberResult {
  const c = classSpec(t.name);
  if (!c) return UNCHECKED;
  const method = c.methods.find((m) => m.name === name);
  const field = c.fields.find((f) => f.name === name);
  if (indexer === ':') {
    if (method) return { kind: 'found', owner: c.name, member: methodMember(method), method };
    return { kind: 'missing', owner: c.name, candidates: c.methods.map((m) => m.name), other: field || c.dynamicMembers ? 'field' : undefined };
  }
  if (field) return { kind: 'found', owner: c.name, member: { name, type: () => schemaType(field.type), doc: field.doc }, field };
  if (c.dynamicMembers) {
    const fixture = t.lab?.fixture !== undefined ? ctx.project.fixture(t.lab.fixture) : undefined;
    if (!fixture || fixture.kind !== 'lab') {
      if (method) return { kind: 'missing', owner: c.name, candidates: [], other: 'method' };
      return { kind: 'found', owner: c.name, member: { name, type: () => schemaType(c.dynamicMembers!.type), doc: c.dynamicMembers.doc } };
    }
    const m = fixture.members.get(name);
    if (m) return { kind: 'found', owner: `Lab (fixture "${fixture.name}")`, member: { name, type: () => classType(m.kind), loc: m.loc, doc: `${m.kind} "${name}" of fixture "${fixture.name}"` } };
    return { kind: 'missing', owner: `Lab (fixture "${fixture.name}")`, candidates: [...fixture.members.keys(), ...c.fields.map((f) => f.name)], other: method ? 'method' : undefined };
  }
  return { kind: 'missing', owner: c.name, candidates: c.fields.map((f) => f.name), other: method ? 'method' : undefined };
}

/** What completion offers after `.` or `:` on a value of type `t`. */
export interface MemberInfo {
  name: string;
  kind: 'method' | 'field' | 'member' | 'function';
  method?: FunctionSpec;
  owner?: string;
  field?: FieldSpec;
  type?: () => LuaType;
  doc?: string;
  loc?: Loc;
}

export function listMembers(t: LuaType, indexer: '.' | ':', ctx: InferCtx): MemberInfo[] {
  const out: MemberInfo[] = [];
  const seen = new Set<string>();
  const add = (m: MemberInfo) => {
    if (!seen.has(m.name)) {
      seen.add(m.name);
      out.push(m);
    }
  };
  for (const a of alternatives(t)) {
    if (a.kind === 'class') {
      const c = classSpec(a.name);
      if (!c) continue;
      if (indexer === ':') for (const m of c.methods) add({ name: m.name, kind: 'method', method: m, owner: c.name });
      else {
        for (const f of c.fields) add({ name: f.name, kind: 'field', field: f, owner: c.name, type: () => schemaType(f.type) });
        const fixture = a.lab?.fixture !== undefined ? ctx.project.fixture(a.lab.fixture) : undefined;
        for (const [name, m] of fixture?.members ?? []) add({ name, kind: 'member', type: () => classType(m.kind), loc: m.loc, doc: `${m.kind} "${name}" of fixture "${fixture!.name}"` });
      }
    } else if (a.kind === 'record' && indexer === '.') {
      for (const f of recordSpec(a.name)?.fields ?? []) add({ name: f.name, kind: 'field', type: () => schemaType(f.type), doc: f.doc });
    } else if (a.kind === 'table') {
      for (const m of a.fields().values()) {
        const isFn = m.type().kind === 'function';
        if (indexer === '.' || isFn) add({ name: m.name, kind: isFn ? 'function' : 'field', type: m.type, loc: m.loc, doc: m.doc });
      }
    } else if (a.kind === 'prim' && (a.name === 'string' || a.name === 'bytes') && indexer === ':') {
      for (const s of STRING_METHODS) add({ name: s, kind: 'function', doc: `Lua's string.${s}` });
    }
  }
  return out;
}
