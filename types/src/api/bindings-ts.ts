/**
 * The schema as TypeScript interfaces that the runtime's bindings implement
 * (`bindings.generated.ts`, written by `npm run gen:api`): one interface per
 * class with a required member for every available method and field, the
 * records as plain object types, and `ApiBindings`, the table of them all. A
 * method missing from an implementation, or one that takes the wrong argument
 * types, is then a compile error. Planned entries are left out: the runtime
 * does not expose them.
 */
import type { ApiSchema, ClassSpec, FieldSpec, FunctionSpec, ParamSpec } from './schema-types.js';
import { parseType, type TypeExpr } from './type-expr.js';

/** Where a type stands: a value Lua hands in (converted by check/convert), or one the implementation hands back. */
type Side = 'in' | 'out';

function tsType(t: TypeExpr, side: Side): string {
  switch (t.kind) {
    case 'prim':
      switch (t.name) {
        case 'string':
          return side === 'in' ? 'string' : 'string | Uint8Array';
        case 'bytes':
          return side === 'in' ? 'Uint8Array' : 'string | Uint8Array';
        case 'number':
        case 'integer':
        case 'duration': // seconds
        case 'size': // bytes
          return 'number';
        case 'boolean':
          return 'boolean';
        case 'nil':
          return side === 'in' ? 'undefined' : 'void';
        default: // any, function, table: passed through as converted
          return 'unknown';
      }
    case 'class':
      return `ApiObject<'${t.name}'>`;
    case 'record':
      return t.name;
    case 'list': {
      const inner = tsType(t.of, side);
      return inner.includes(' ') ? `(${inner})[]` : `${inner}[]`;
    }
    case 'map':
      return `Record<string, ${tsType(t.value, side)}>`;
    case 'union': {
      const alts = [...new Set(t.of.map((a) => tsType(a, side)))];
      return alts.includes('unknown') ? 'unknown' : alts.join(' | ');
    }
  }
}

const comment = (doc: string, indent: string) => `${indent}/** ${doc.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ').trim()} */`;

export function toBindingInterfaces(schema: ApiSchema): string {
  const ty = (text: string, side: Side) => tsType(parseType(text, schema), side);
  // An optional parameter before a required one (`test(name, meta?, fn)`) stays in place as `T | undefined`.
  const tuple = (ps: ParamSpec[]) => {
    const trailing = (i: number) => ps.slice(i).every((p) => p.optional);
    const param = (p: ParamSpec, i: number) =>
      !p.optional ? `${p.name}: ${ty(p.type, 'in')}` : trailing(i) ? `${p.name}?: ${ty(p.type, 'in')}` : `${p.name}: ${ty(p.type, 'in')} | undefined`;
    return `[${ps.map(param).join(', ')}]`;
  };
  const signatures = (f: FunctionSpec) => [{ params: f.params, returns: f.returns }, ...(f.overloads ?? [])];
  const args = (f: FunctionSpec) => signatures(f).map((s) => tuple(s.params)).join(' | ');
  const returns = (f: FunctionSpec) => [...new Set(signatures(f).map((s) => ty(s.returns, 'out')))].join(' | ');
  const available = <T extends { status: string }>(xs: T[]) => xs.filter((x) => x.status === 'available');

  const out: string[] = [
    '// Generated from the API schema (types/src/api/schema.ts) by `npm run gen:api`: do not edit.',
    '// The runtime implements each interface in runner/src/worker/api/<class>.ts; "Go to Implementation"',
    '// on a member below lands on its code.',
    "import type { ApiObject, ClassHooks, FieldBinding, GlobalFunctionBinding, GlobalValueBinding, MemberHook, MethodBinding, WritableFieldBinding } from './binding-types.js';",
    '',
  ];
  for (const r of schema.records) {
    out.push(comment(r.doc, ''), `export interface ${r.name} {`);
    for (const f of r.fields) out.push(comment(f.doc, '  '), `  ${f.name}${f.optional === false ? '' : '?'}: ${ty(f.type, 'in')};`);
    if (r.open) out.push('  [key: string]: unknown;');
    out.push('}', '');
  }
  const field = (c: ClassSpec, f: FieldSpec) => {
    const self = `ApiObject<'${c.name}'>`;
    const impl = f.writable ? `WritableFieldBinding<${self}, ${ty(f.type, 'out')}, ${ty(f.type, 'in')}>` : `FieldBinding<${self}, ${ty(f.type, 'out')}>`;
    return [comment(f.doc, '    '), `    ${f.name}: ${impl};`];
  };
  for (const c of schema.classes) {
    const self = `ApiObject<'${c.name}'>`;
    const hooks = [`ClassHooks<${self}>`, ...(c.dynamicMembers ? [`MemberHook<${self}, ${ty(c.dynamicMembers.type, 'out')}>`] : [])];
    out.push(comment(`${c.name}: ${c.doc}`, ''), `export interface ${c.name}Binding extends ${hooks.join(', ')} {`);
    const fields = available(c.fields);
    if (fields.length) out.push('  fields: {', ...fields.flatMap((f) => field(c, f)), '  };');
    out.push('  methods: {');
    for (const m of available(c.methods)) out.push(comment(m.doc, '    '), `    ${m.name}: MethodBinding<${self}, ${args(m)}, ${returns(m)}>;`);
    out.push('  };', '}', '');
  }
  out.push('/** Every class and global the runtime exposes, each with its implementation. */', 'export interface ApiBindings {', '  classes: {');
  for (const c of schema.classes) out.push(`    ${c.name}: ${c.name}Binding;`);
  out.push('  };', '  globals: {');
  for (const g of available(schema.globals)) {
    const impl = g.kind === 'value' ? `GlobalValueBinding<ApiObject<'${g.type}'>>` : `GlobalFunctionBinding<${args(g.fn!)}, ${returns(g.fn!)}>`;
    out.push(comment(g.doc, '    '), `    ${g.name}: ${impl};`);
  }
  out.push('  };', '}');
  return out.join('\n') + '\n';
}
