/**
 * What the author is typing at a cursor, for completion: a member after `.`
 * or `:`, a string argument with a meaning (fixture, profile, module), a key
 * of an option table, or a plain name. Works on half-typed code (recovery.ts).
 */
import type { RecordSpec } from '@provium/types';
import { recordSpec, schemaType } from './api-model.js';
import { callArgs, isCall, type Node } from './ast.js';
import { expectedArgType, resolveCallee, stringRole, type StringRole } from './callee.js';
import type { DocAnalysis } from './doc-analysis.js';
import { typeOf, type InferCtx } from './infer.js';
import { alternatives, type LuaType } from './lua-types.js';
import { enclosingCall, fallbackScope, findInTree, parsePatched, PLACEHOLDER, typeByScan, type NodeHit } from './recovery.js';
import type { Scope } from './scope.js';
import { lex, type Token } from './tokens.js';

/** `tree`: a patched parse of the statement worked; `scan`: the token-scan fallback was needed. */
export type Technique = 'tree' | 'scan';

export type CursorContext =
  | { kind: 'member'; receiver: LuaType; indexer: '.' | ':'; partial: string; technique: Technique }
  | { kind: 'string'; role: StringRole; partial: string; /** Absolute offset where the string's content starts. */ start: number; technique: Technique }
  | { kind: 'key'; record: RecordSpec; present: string[]; partial: string; technique: Technique }
  | { kind: 'name'; scope: Scope; partial: string; technique: Technique }
  | { kind: 'none' };

const NONE: CursorContext = { kind: 'none' };

export function cursorContext(a: DocAnalysis, offset: number): CursorContext {
  const doc = a.doc;
  const seg = doc.segments[doc.segmentIndexAt(offset)];
  const prefix = doc.text.slice(seg.start, offset);
  const lx = lex(prefix);
  if (lx.openComment) return NONE;
  const toks = lx.tokens;
  const last = toks.at(-1);
  const touching = !!last && last.end === prefix.length;
  const ctx = a.ctx;

  if (touching && last!.kind === 'string') return last!.unterminated ? stringContext(a, offset, toks, seg.start) : NONE;
  if (touching && last!.kind === 'number') return NONE;
  if (last?.kind === 'punct' && (last.text === ':' || last.text === '.')) return memberContext(a, offset, toks, toks.length - 2, last.text, '');
  const prev = toks.at(-2);
  if (touching && last!.kind === 'name' && prev?.kind === 'punct' && (prev.text === ':' || prev.text === '.')) {
    return memberContext(a, offset, toks, toks.length - 3, prev.text, last!.text);
  }
  const partial = touching && (last!.kind === 'name' || last!.kind === 'keyword') ? last!.text : '';
  const p = parsePatched(a, offset, partial ? ['', '()'] : [PLACEHOLDER, `${PLACEHOLDER}()`, '']);
  if (!p) return { kind: 'name', scope: fallbackScope(a, offset, toks), partial, technique: 'scan' };
  const hit = findInTree(p.body, p.entry, p.source, offset - seg.start);
  if (!hit) return { kind: 'name', scope: p.entry, partial, technique: 'tree' };
  const key = keyContext(hit, ctx, partial);
  if (key) return key;
  const parent = hit.path.at(-2);
  if (parent && declaresName(parent, hit.node)) return NONE;
  return { kind: 'name', scope: hit.scope, partial, technique: 'tree' };
}

/** True when `node` is the name being declared (a local, a parameter, a loop variable). */
function declaresName(parent: Node, node: Node): boolean {
  if (parent.type === 'LocalStatement' || parent.type === 'ForGenericStatement') return parent.variables.includes(node as never);
  if (parent.type === 'FunctionDeclaration') return parent.parameters.includes(node as never) || parent.identifier === node;
  if (parent.type === 'ForNumericStatement') return parent.variable === node;
  return false;
}

function memberContext(a: DocAnalysis, offset: number, toks: Token[], receiverEnd: number, indexer: string, partial: string): CursorContext {
  const ix = indexer as '.' | ':';
  const suffixes = ix === ':' ? (partial ? ['()'] : [`${PLACEHOLDER}()`]) : partial ? ['', '()'] : [PLACEHOLDER, `${PLACEHOLDER}()`];
  const p = parsePatched(a, offset, suffixes);
  const seg = a.doc.segments[a.doc.segmentIndexAt(offset)];
  if (p) {
    const hit = findInTree(p.body, p.entry, p.source, offset - seg.start);
    const member = hit?.path.at(-2);
    if (hit && member?.type === 'MemberExpression' && member.identifier === hit.node) {
      return { kind: 'member', receiver: typeOf(member.base, hit.scope, hit.source, a.ctx), indexer: ix, partial, technique: 'tree' };
    }
  }
  const scope = fallbackScope(a, offset, toks);
  const prefix = a.doc.text.slice(seg.start, offset);
  return { kind: 'member', receiver: typeByScan(prefix, toks, receiverEnd, scope, a.doc.uri, a.ctx), indexer: ix, partial, technique: 'scan' };
}

function stringContext(a: DocAnalysis, offset: number, toks: Token[], segStart: number): CursorContext {
  const str = toks.at(-1)!;
  if (str.text.startsWith('[')) return NONE;
  const partial = str.text.slice(1);
  const start = segStart + str.start + 1;
  const p = parsePatched(a, offset, ['']);
  if (p) {
    const hit = findInTree(p.body, p.entry, p.source, str.start + 1);
    const call = hit?.path.at(-2);
    if (hit && hit.node.type === 'StringLiteral' && call && isCall(call)) {
      const role = stringRole(call, callArgs(call).indexOf(hit.node), hit.scope, hit.source, a.ctx);
      return role ? { kind: 'string', role, partial, start, technique: 'tree' } : NONE;
    }
    return NONE;
  }
  // Token scan: `name(` / `recv:method(` before the string, and the argument position.
  const call = enclosingCall(toks, toks.length - 2);
  if (!call) return NONE;
  const callee = toks[call.open - 1];
  const sep = toks[call.open - 2];
  if (callee?.text === 'require' && call.argIndex === 0 && sep?.text !== '.' && sep?.text !== ':') return { kind: 'string', role: 'module', partial, start, technique: 'scan' };
  if (sep?.text !== ':' || !callee) return NONE;
  const recv = typeByScan(a.doc.text.slice(segStart, offset), toks, call.open - 3, fallbackScope(a, offset, toks), a.doc.uri, a.ctx);
  if (!alternatives(recv).some((t) => t.kind === 'class' && t.name === 'Lab')) return NONE;
  const role = callee.text === 'vm' && call.argIndex === 1 ? 'profile' : (callee.text === 'vm_fixture' || callee.text === 'lab_fixture') && call.argIndex === 0 ? callee.text : undefined;
  return role ? { kind: 'string', role, partial, start, technique: 'scan' } : NONE;
}

/** Inside `{ ... }` at a key position, where the table is an option record: `test(name, {|`. */
function keyContext(hit: NodeHit, ctx: InferCtx, partial: string): CursorContext | undefined {
  let k = hit.path.length - 1;
  if (hit.node.type === 'Identifier') {
    if (hit.path[k - 1]?.type !== 'TableValue') return undefined;
    k -= 2;
  }
  const table = hit.path[k];
  if (table?.type !== 'TableConstructorExpression') return undefined;
  const t = expectedTableType(hit, k, ctx);
  const rec = t && alternatives(t).find((x) => x.kind === 'record');
  const spec = rec?.kind === 'record' ? recordSpec(rec.name) : undefined;
  if (!spec) return undefined;
  const present = table.fields.flatMap((f) => (f.type === 'TableKeyString' ? [f.key.name] : []));
  return { kind: 'key', record: spec, present, partial, technique: 'tree' };
}

/** The schema type a table constructor at `hit.path[k]` must have, from where it is passed. */
export function expectedTableType(hit: NodeHit, k: number, ctx: InferCtx): LuaType | undefined {
  const node = hit.path[k];
  const parent = hit.path[k - 1];
  if (!parent) return undefined;
  if (isCall(parent)) {
    const callee = resolveCallee(parent, hit.scope, hit.source, ctx);
    if (callee?.kind !== 'api') return undefined;
    const args = callArgs(parent);
    return expectedArgType(callee.spec, args.length, args.indexOf(node as never), (t) => alternatives(t).some((x) => x.kind === 'record' || x.kind === 'list'));
  }
  if (parent.type === 'TableKeyString' && parent.value === node) {
    const outer = expectedTableType(hit, k - 2, ctx);
    const rec = outer && alternatives(outer).find((x) => x.kind === 'record');
    const field = rec?.kind === 'record' ? recordSpec(rec.name)?.fields.find((f) => f.name === parent.key.name) : undefined;
    return field ? schemaType(field.type) : undefined;
  }
  if (parent.type === 'TableValue' && parent.value === node) {
    const outer = expectedTableType(hit, k - 2, ctx);
    const list = outer && alternatives(outer).find((x) => x.kind === 'list');
    return list?.kind === 'list' ? list.of : undefined;
  }
  return undefined;
}
