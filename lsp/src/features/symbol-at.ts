/**
 * What the name or string under the cursor refers to; shared by hover and
 * go-to-definition.
 */
import type { ClassSpec, FieldSpec, FunctionSpec } from '@provium/types';
import { classSpec, globalSpec } from '../analysis/api-model.js';
import { isCall, callArgs } from '../analysis/ast.js';
import { stringRole, type StringRole } from '../analysis/callee.js';
import type { DocAnalysis } from '../analysis/doc-analysis.js';
import { bindingType, memberOf, stringValue, typeOf } from '../analysis/infer.js';
import { alternatives, type Loc, type LuaType } from '../analysis/lua-types.js';
import { nodeAt } from '../analysis/recovery.js';
import { lookup } from '../analysis/scope.js';

export type Target =
  | { kind: 'method'; spec: FunctionSpec; owner: string; range: [number, number] }
  | { kind: 'field'; spec: FieldSpec; owner: string; range: [number, number] }
  | { kind: 'member'; name: string; type: LuaType; loc?: Loc; doc?: string; range: [number, number] }
  | { kind: 'variable'; name: string; type: LuaType; loc?: Loc; range: [number, number] }
  | { kind: 'global'; name: string; range: [number, number] }
  | { kind: 'string'; role: StringRole; value: string; range: [number, number] };

/** The target under `offset`; ranges are absolute. */
export function targetAt(a: DocAnalysis, offset: number): Target | undefined {
  const hit = nodeAt(a, offset);
  if (!hit) return undefined;
  const { node, scope, source } = hit;
  const ctx = a.ctx;
  const range: [number, number] = [source.base + node.from, source.base + node.to];
  const parent = hit.path.at(-2);
  if (node.type === 'StringLiteral' && parent && isCall(parent)) {
    const role = stringRole(parent, callArgs(parent).indexOf(node), scope, source, ctx);
    const value = stringValue(node);
    return role && value !== undefined ? { kind: 'string', role, value, range } : undefined;
  }
  if (node.type !== 'Identifier') return undefined;
  if (parent?.type === 'MemberExpression' && parent.identifier === node) {
    const recv = typeOf(parent.base, scope, source, ctx);
    const r = memberOf(recv, node.name, parent.indexer, ctx);
    if (r.kind === 'found') {
      if (r.method) return { kind: 'method', spec: r.method, owner: r.owner, range };
      if (r.field) return { kind: 'field', spec: r.field, owner: r.owner, range };
      return { kind: 'member', name: node.name, type: r.member.type(), loc: r.member.loc, doc: r.member.doc, range };
    }
    if (r.kind === 'missing' && r.other === 'method') {
      // `snap.size` used with '.': still show what it is.
      for (const t of alternatives(recv)) {
        const m = t.kind === 'class' ? classSpec(t.name)?.methods.find((x) => x.name === node.name) : undefined;
        if (m) return { kind: 'method', spec: m, owner: (classSpec((t as { name: string }).name) as ClassSpec).name, range };
      }
    }
    return undefined;
  }
  if (parent?.type === 'TableKeyString' && parent.key === node) return undefined;
  const b = lookup(scope, node.name);
  if (b) return { kind: 'variable', name: node.name, type: bindingType(b, ctx), loc: b.decl, range };
  if (globalSpec(node.name)) return { kind: 'global', name: node.name, range };
  return undefined;
}
