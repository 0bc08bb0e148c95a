/**
 * The schema joined with the registry, parsed once per process: every class
 * with its exposed methods (available + implemented), its fields, and the names
 * that are planned (calling those says "not available yet").
 */
import { parseType, type ApiSchema, type FunctionSpec, type ParamSpec, type TypeExpr } from '@provium/types';
import type { BindingRegistry, ClassImpl, FieldImpl, GlobalImpl, GlobalValueImpl, MethodImpl } from './registry.js';

export interface CompiledParam {
  name: string;
  type: TypeExpr;
  optional: boolean;
}

export interface CompiledSignature {
  params: CompiledParam[];
  required: number;
  returns: TypeExpr;
}

export interface CompiledMethod {
  name: string;
  /** Undefined for a global function. */
  cls: CompiledClass | undefined;
  signatures: CompiledSignature[];
  impl: MethodImpl<unknown> | GlobalImpl;
  /** The JS implementation is an async function: check that Lua can wait before calling it. */
  isAsync: boolean;
}

export interface CompiledField {
  name: string;
  type: TypeExpr;
  writable: boolean;
  available: boolean;
  impl: FieldImpl<unknown> | undefined;
}

export interface CompiledClass {
  name: string;
  impl: ClassImpl;
  /** Exposed methods. */
  methods: Map<string, CompiledMethod>;
  fields: Map<string, CompiledField>;
  /** Schema methods that are not exposed: planned, or available but not implemented. */
  unexposed: Map<string, 'planned' | 'unimplemented'>;
  /** Type of members looked up by name (`lab.web`), for classes that have them. */
  memberType: TypeExpr | undefined;
  /** Registry key of the metatable. */
  metaKey: string;
}

export interface CompiledGlobal {
  name: string;
  kind: 'function' | 'value';
  fn?: CompiledMethod;
  valueClass?: CompiledClass;
  value?: GlobalValueImpl['value'];
}

export interface CompiledApi {
  schema: ApiSchema;
  classes: Map<string, CompiledClass>;
  /** Exposed globals. */
  globals: CompiledGlobal[];
}

const AsyncFunction = (async () => {}).constructor;

function compileSignature(schema: ApiSchema, params: ParamSpec[], returns: string): CompiledSignature {
  const compiled = params.map((p) => ({ name: p.name, type: parseType(p.type, schema), optional: p.optional === true }));
  return { params: compiled, required: compiled.filter((p) => !p.optional).length, returns: parseType(returns, schema) };
}

function compileSignatures(schema: ApiSchema, fn: FunctionSpec): CompiledSignature[] {
  return [compileSignature(schema, fn.params, fn.returns), ...(fn.overloads ?? []).map((o) => compileSignature(schema, o.params, o.returns))];
}

function isJsFunction(impl: unknown): impl is (...args: unknown[]) => unknown {
  return typeof impl === 'function';
}

const cache = new WeakMap<ApiSchema, Map<BindingRegistry, { version: number; api: CompiledApi }>>();

export function compileApi(schema: ApiSchema, registry: BindingRegistry): CompiledApi {
  let perSchema = cache.get(schema);
  if (!perSchema) cache.set(schema, (perSchema = new Map()));
  const hit = perSchema.get(registry);
  if (hit && hit.version === registry.version) return hit.api;
  const api = build(schema, registry);
  perSchema.set(registry, { version: registry.version, api });
  return api;
}

function build(schema: ApiSchema, registry: BindingRegistry): CompiledApi {
  for (const name of registry.classNames()) {
    if (!schema.classes.some((c) => c.name === name)) throw new Error(`binding: registered class ${name} is not in the API schema`);
  }
  const classes = new Map<string, CompiledClass>();
  for (const spec of schema.classes) {
    const impl = registry.classImpl(spec.name) ?? {};
    for (const m of Object.keys(impl.methods ?? {})) {
      if (!spec.methods.some((s) => s.name === m)) throw new Error(`binding: ${spec.name}:${m} is registered but not in the API schema`);
    }
    for (const f of Object.keys(impl.fields ?? {})) {
      if (!spec.fields.some((s) => s.name === f)) throw new Error(`binding: ${spec.name}.${f} is registered but not in the API schema`);
    }
    classes.set(spec.name, {
      name: spec.name,
      impl,
      methods: new Map(),
      fields: new Map(),
      unexposed: new Map(),
      memberType: undefined,
      metaKey: `provium.class.${spec.name}`,
    });
  }
  for (const spec of schema.classes) {
    const cls = classes.get(spec.name)!;
    if (spec.dynamicMembers) cls.memberType = parseType(spec.dynamicMembers.type, schema);
    for (const m of spec.methods) {
      const impl = cls.impl.methods?.[m.name];
      if (m.status !== 'available') cls.unexposed.set(m.name, 'planned');
      else if (impl === undefined) cls.unexposed.set(m.name, 'unimplemented');
      else cls.methods.set(m.name, { name: m.name, cls, signatures: compileSignatures(schema, m), impl, isAsync: impl instanceof AsyncFunction });
    }
    for (const f of spec.fields) {
      cls.fields.set(f.name, { name: f.name, type: parseType(f.type, schema), writable: f.writable === true, available: f.status === 'available', impl: cls.impl.fields?.[f.name] });
    }
  }
  const globals: CompiledGlobal[] = [];
  for (const g of schema.globals) {
    const impl = registry.globalImpl(g.name);
    if (g.status !== 'available' || impl === undefined) continue;
    if (g.kind === 'function') {
      if (!g.fn) throw new Error(`schema: global function ${g.name} has no signature`);
      const fn: CompiledMethod = { name: g.name, cls: undefined, signatures: compileSignatures(schema, g.fn), impl, isAsync: isJsFunction(impl) && impl instanceof AsyncFunction };
      globals.push({ name: g.name, kind: 'function', fn });
    } else {
      const valueClass = g.type ? classes.get(g.type) : undefined;
      if (!valueClass || !('value' in (impl as object))) throw new Error(`binding: global value ${g.name} needs a class type and a value factory`);
      globals.push({ name: g.name, kind: 'value', valueClass, value: (impl as GlobalValueImpl).value });
    }
  }
  for (const name of registry.globalNames()) {
    if (!schema.globals.some((g) => g.name === name)) throw new Error(`binding: registered global ${name} is not in the API schema`);
  }
  return { schema, classes, globals };
}
