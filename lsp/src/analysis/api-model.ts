/**
 * The schema (`API` of @provium/types) seen from the analysis: schema types
 * as LuaTypes, members of classes and records, signatures as authors read
 * them. Everything the server knows about the Provium API comes from here.
 */
import { API, parseType, type ClassSpec, type FunctionSpec, type ParamSpec, type RecordSpec, type TypeExpr } from '@provium/types';
import { UNKNOWN, type LuaType } from './lua-types.js';

export const NOT_AVAILABLE = 'not available yet';

const typeCache = new Map<string, LuaType>();

function fromExpr(t: TypeExpr): LuaType {
  switch (t.kind) {
    case 'prim': return { kind: 'prim', name: t.name };
    case 'class': return { kind: 'class', name: t.name };
    case 'record': return { kind: 'record', name: t.name };
    case 'list': return { kind: 'list', of: fromExpr(t.of) };
    case 'map': return { kind: 'map', key: fromExpr(t.key), value: fromExpr(t.value) };
    case 'union': {
      const of = t.of.map(fromExpr).filter((x) => !(x.kind === 'prim' && x.name === 'nil'));
      return of.length === 1 ? of[0] : { kind: 'union', of };
    }
  }
}

/** A schema type expression (`"VM"`, `"DirEntry[]"`, `"bytes|nil"`) as a LuaType. */
export function schemaType(text: string): LuaType {
  let t = typeCache.get(text);
  if (!t) {
    t = text === 'nil' ? UNKNOWN : fromExpr(parseType(text, API));
    typeCache.set(text, t);
  }
  return t;
}

export function schemaTypeExpr(text: string): TypeExpr {
  return parseType(text, API);
}

export function classSpec(name: string): ClassSpec | undefined {
  return API.classes.find((c) => c.name === name);
}

export function recordSpec(name: string): RecordSpec | undefined {
  return API.records.find((r) => r.name === name);
}

export function globalSpec(name: string) {
  return API.globals.find((g) => g.name === name);
}

/** Every signature of a function: the main one and its overloads. */
export function signaturesOf(fn: FunctionSpec): { params: ParamSpec[]; returns: string; doc: string }[] {
  return [{ params: fn.params, returns: fn.returns, doc: fn.doc }, ...(fn.overloads ?? [])];
}

function paramLabel(p: ParamSpec): string {
  return `${p.name}${p.optional ? '?' : ''}: ${p.type}${p.default ? ` = ${p.default}` : ''}`;
}

/** `VM:run(cmd: string, opts?: RunOpts): RunResult` (owner omitted for global functions). */
export function signatureLabel(fn: FunctionSpec, owner?: string, sig = signaturesOf(fn)[0]): string {
  const head = owner ? `${owner}:${fn.name}` : fn.name;
  return `${head}(${sig.params.map(paramLabel).join(', ')})${sig.returns !== 'nil' ? `: ${sig.returns}` : ''}`;
}

export { paramLabel };

/** Markdown documentation of a function: doc, parameters, availability. */
export function functionDoc(fn: FunctionSpec, owner?: string): string {
  const lines = signaturesOf(fn).map((s) => '```lua\n' + signatureLabel(fn, owner, s) + '\n```\n' + s.doc);
  const params = fn.params.filter((p) => p.doc).map((p) => `- \`${p.name}\`: ${p.doc}`);
  const status = fn.status === 'planned' ? [`\n**${NOT_AVAILABLE}**: in the API contract, not implemented by the runtime yet.`] : [];
  return [...lines, ...(params.length ? ['', ...params] : []), ...status].join('\n');
}

/** Lua's string methods, callable as `s:upper()` on any string. */
export const STRING_METHODS = ['byte', 'find', 'format', 'gmatch', 'gsub', 'len', 'lower', 'match', 'rep', 'reverse', 'sub', 'upper'];

/** Lua 5.3 standard globals offered by completion beside the Provium ones. */
export const LUA_GLOBALS = [
  'assert', 'collectgarbage', 'error', 'getmetatable', 'ipairs', 'load', 'next', 'pairs', 'pcall', 'print', 'rawequal',
  'rawget', 'rawlen', 'rawset', 'require', 'select', 'setmetatable', 'tonumber', 'tostring', 'type', 'xpcall',
  'math', 'string', 'table', 'os', 'utf8', 'coroutine', 'package', '_G', '_VERSION',
];

/** Functions called with a callback whose parameters have known types: `test(name, function(t) ...)`. */
export const CALLBACK_PARAMS: Record<string, string[]> = { test: ['TestContext'] };
/** Methods called with a callback whose parameters have known types, by `<Class>:<method>`: `vm:batch(function(b) ...)`. */
export const METHOD_CALLBACK_PARAMS: Record<string, string[]> = { 'VM:batch': ['Batch'] };
