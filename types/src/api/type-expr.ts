import type { ApiSchema, ClassSpec, FunctionSpec, RecordSpec } from './schema-types.js';

/** A parsed schema type expression (see schema-types.ts for the grammar). */
export type TypeExpr =
  | { kind: 'prim'; name: PrimName }
  | { kind: 'class'; name: string }
  | { kind: 'record'; name: string }
  | { kind: 'list'; of: TypeExpr }
  | { kind: 'map'; key: TypeExpr; value: TypeExpr }
  | { kind: 'union'; of: TypeExpr[] };

export const PRIMITIVES = ['string', 'number', 'integer', 'boolean', 'nil', 'any', 'function', 'table', 'bytes', 'duration', 'size'] as const;
export type PrimName = (typeof PRIMITIVES)[number];

function splitTop(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '<' || c === '(') depth++;
    else if (c === '>' || c === ')') depth--;
    else if (c === sep && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts.map((x) => x.trim());
}

/** Parses a type expression; names must be primitives, classes or records of `schema`. */
export function parseType(text: string, schema: ApiSchema): TypeExpr {
  const alts = splitTop(text, '|');
  if (alts.length > 1) return { kind: 'union', of: alts.map((a) => parseType(a, schema)) };
  const t = alts[0];
  if (t.endsWith('[]')) return { kind: 'list', of: parseType(t.slice(0, -2), schema) };
  if (t.startsWith('(') && t.endsWith(')')) return parseType(t.slice(1, -1), schema); // (A|B)[]
  const map = /^table<(.*)>$/.exec(t);
  if (map) {
    const [k, v] = splitTop(map[1], ',');
    return { kind: 'map', key: parseType(k, schema), value: parseType(v, schema) };
  }
  if ((PRIMITIVES as readonly string[]).includes(t)) return { kind: 'prim', name: t as PrimName };
  if (schema.classes.some((c) => c.name === t)) return { kind: 'class', name: t };
  if (schema.records.some((r) => r.name === t)) return { kind: 'record', name: t };
  throw new Error(`schema: unknown type name "${t}" in "${text}"`);
}

/** The type as an author reads it in an error message or a hover. */
export function formatType(t: TypeExpr): string {
  switch (t.kind) {
    case 'prim':
      return t.name === 'bytes' ? 'string' : t.name === 'duration' ? 'duration (number or "5s")' : t.name === 'size' ? 'size (number or "512M")' : t.name;
    case 'class':
    case 'record':
      return t.name;
    case 'list':
      return t.of.kind === 'union' ? `(${formatType(t.of)})[]` : `${formatType(t.of)}[]`;
    case 'map':
      return `table<${formatType(t.key)}, ${formatType(t.value)}>`;
    case 'union':
      return t.of.map(formatType).join(' or ');
  }
}

export function findClass(schema: ApiSchema, name: string): ClassSpec | undefined {
  return schema.classes.find((c) => c.name === name);
}

export function findRecord(schema: ApiSchema, name: string): RecordSpec | undefined {
  return schema.records.find((r) => r.name === name);
}

export function findMethod(schema: ApiSchema, className: string, method: string): FunctionSpec | undefined {
  return findClass(schema, className)?.methods.find((m) => m.name === method);
}

/** Every type expression written in the schema, with where it stands (for the schema's own test). */
export function allTypeTexts(schema: ApiSchema): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  const addFn = (where: string, f: FunctionSpec) => {
    for (const sig of [f, ...(f.overloads ?? [])]) {
      out.push({ where: `${where} returns`, text: sig.returns });
      for (const prm of sig.params) out.push({ where: `${where}(${prm.name})`, text: prm.type });
    }
  };
  for (const g of schema.globals) {
    if (g.type) out.push({ where: g.name, text: g.type });
    if (g.fn) addFn(g.name, g.fn);
  }
  for (const c of schema.classes) {
    for (const f of c.fields) out.push({ where: `${c.name}.${f.name}`, text: f.type });
    for (const m of c.methods) addFn(`${c.name}:${m.name}`, m);
    if (c.dynamicMembers) out.push({ where: `${c.name}.<member>`, text: c.dynamicMembers.type });
  }
  for (const r of schema.records) for (const f of r.fields) out.push({ where: `${r.name}.${f.name}`, text: f.type });
  return out;
}
