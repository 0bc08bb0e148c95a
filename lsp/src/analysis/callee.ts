/**
 * What a call calls: a schema method (`vm:run`), a schema global (`test`), or a
 * local function; and what a string argument means at a given position
 * (a fixture name, a profile, a module name).
 */
import type { FunctionSpec } from '@provium/types';
import { classSpec, schemaType, signaturesOf } from './api-model.js';
import type { CallNode, Expression } from './ast.js';
import { isLab, typeOf, type InferCtx } from './infer.js';
import { alternatives, type LuaType, type Source } from './lua-types.js';
import { lookup, type Scope } from './scope.js';

export type Callee =
  | {
      kind: 'api';
      spec: FunctionSpec;
      /** Class of a method; undefined for a global function. */
      owner?: string;
      /** A method called with `.` instead of `:`. */
      dot?: boolean;
      receiver?: LuaType;
    }
  | { kind: 'local'; fn: Extract<LuaType, { kind: 'function' }> };

export function resolveCallee(call: CallNode, scope: Scope, source: Source, ctx: InferCtx): Callee | undefined {
  const base = call.base;
  if (base.type === 'MemberExpression') {
    const receiver = typeOf(base.base, scope, source, ctx);
    for (const alt of alternatives(receiver)) {
      if (alt.kind !== 'class') continue;
      const m = classSpec(alt.name)?.methods.find((x) => x.name === base.identifier.name);
      if (m) return { kind: 'api', spec: m, owner: alt.name, dot: base.indexer === '.', receiver };
    }
  }
  const t = typeOf(base, scope, source, ctx);
  if (t.kind === 'api') return { kind: 'api', spec: t.spec };
  if (t.kind === 'function') return { kind: 'local', fn: t };
  return undefined;
}

export type StringRole = 'vm_fixture' | 'lab_fixture' | 'profile' | 'module';

/** The meaning of a string literal passed as argument `index` of `call`. */
export function stringRole(call: CallNode, index: number, scope: Scope, source: Source, ctx: InferCtx): StringRole | undefined {
  const base = call.base;
  if (base.type === 'Identifier') return base.name === 'require' && index === 0 && !lookup(scope, 'require') ? 'module' : undefined;
  if (base.type !== 'MemberExpression' || base.indexer !== ':') return undefined;
  const name = base.identifier.name;
  if (name !== 'vm_fixture' && name !== 'lab_fixture' && name !== 'vm') return undefined;
  if (!isLab(typeOf(base.base, scope, source, ctx))) return undefined;
  if (name === 'vm') return index === 1 ? 'profile' : undefined;
  return index === 0 ? name : undefined;
}

/** The schema type expected for argument `index`: the first signature whose parameter there fits `want`. */
export function expectedArgType(spec: FunctionSpec, argCount: number, index: number, want?: (t: LuaType) => boolean): LuaType | undefined {
  const sigs = signaturesOf(spec);
  const ordered = [...sigs.filter((s) => s.params.length === argCount), ...sigs];
  for (const s of ordered) {
    const p = s.params[index];
    if (!p) continue;
    const t = schemaType(p.type);
    if (!want || want(t)) return t;
  }
  return undefined;
}

/** Whether a literal argument could be passed where `type` is expected (non-literals always could). */
export function literalFits(arg: Expression, type: string): boolean {
  const kinds: string[] = alternatives(schemaType(type)).map((t) => (t.kind === 'prim' ? t.name : t.kind));
  const any = (...k: string[]) => kinds.includes('any') || k.some((x) => kinds.includes(x));
  switch (arg.type) {
    case 'StringLiteral': return any('string', 'bytes', 'duration', 'size');
    case 'NumericLiteral': return any('number', 'integer', 'duration', 'size');
    case 'BooleanLiteral': return any('boolean');
    case 'TableConstructorExpression': return any('table', 'record', 'list', 'map');
    case 'FunctionDeclaration': return any('function');
    default: return true;
  }
}
