/**
 * The schema as a LuaCATS `---@meta` file for people who use
 * lua-language-server (`provium types --luals`). Planned methods are kept and
 * marked "not available yet" so the editor shows the whole contract.
 */
import type { ApiSchema, FunctionSpec, ParamSpec } from './schema-types.js';
import { parseType, type TypeExpr } from './type-expr.js';

function luaType(t: TypeExpr): string {
  switch (t.kind) {
    case 'prim':
      return t.name === 'bytes' ? 'string' : t.name === 'duration' || t.name === 'size' ? 'number|string' : t.name;
    case 'class':
    case 'record':
      return `provium.${t.name}`;
    case 'list': {
      const inner = luaType(t.of);
      return inner.includes('|') ? `(${inner})[]` : `${inner}[]`;
    }
    case 'map':
      return `table<${luaType(t.key)}, ${luaType(t.value)}>`;
    case 'union':
      return t.of.map(luaType).join('|');
  }
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

export function toLuaCats(schema: ApiSchema): string {
  const ty = (text: string) => luaType(parseType(text, schema));
  const notYet = (f: { status: string }) => (f.status === 'planned' ? ' (not available yet)' : '');
  const params = (ps: ParamSpec[]) =>
    ps.map((p) => `---@param ${p.name}${p.optional ? '?' : ''} ${ty(p.type)}${p.doc ? ` ${oneLine(p.doc)}` : ''}${p.default ? ` Default: ${p.default}.` : ''}`);
  /** `self` is the class of a method, undefined for a global function. */
  const func = (f: FunctionSpec, self?: { table: string; cls: string }): string[] => {
    const lines = [`--- ${oneLine(f.doc)}${notYet(f)}`];
    for (const o of f.overloads ?? []) {
      const args = o.params.map((p) => `${p.name}: ${ty(p.type)}`);
      if (self) args.unshift(`self: provium.${self.cls}`);
      lines.push(`---@overload fun(${args.join(', ')}): ${ty(o.returns)}`);
    }
    lines.push(...params(f.params));
    if (f.returns !== 'nil') lines.push(`---@return ${ty(f.returns)}`);
    const name = self ? `${self.table}:${f.name}` : f.name;
    lines.push(`function ${name}(${f.params.map((p) => p.name).join(', ')}) end`, '');
    return lines;
  };

  const out: string[] = ['---@meta provium', `-- Provium Lua API ${schema.version}. Generated from the schema in types/: do not edit.`, '', 'provium = provium or {}', ''];
  for (const r of schema.records) {
    out.push(`--- ${oneLine(r.doc)}`, `---@class provium.${r.name}`);
    for (const f of r.fields) out.push(`---@field ${f.name}${f.optional ? '?' : ''} ${ty(f.type)} ${oneLine(f.doc)}`);
    if (r.open) out.push('---@field [string] any');
    out.push('');
  }
  for (const c of schema.classes) {
    out.push(`--- ${oneLine(c.doc)}`, `---@class provium.${c.name}`);
    for (const f of c.fields) out.push(`---@field ${f.name} ${ty(f.type)} ${oneLine(f.doc)}${notYet(f)}`);
    if (c.dynamicMembers) out.push(`---@field [string] ${ty(c.dynamicMembers.type)}`);
    const table = `__provium_${c.name}`;
    out.push(`local ${table} = {}`, '');
    for (const m of c.methods) out.push(...func(m, { table, cls: c.name }));
  }
  for (const g of schema.globals) {
    if (g.kind === 'value' && g.type) out.push(`--- ${oneLine(g.doc)}`, `---@type ${ty(g.type)}`, `${g.name} = ${g.name}`, '');
    if (g.kind === 'function' && g.fn) out.push(...func(g.fn));
  }
  return out.join('\n');
}
