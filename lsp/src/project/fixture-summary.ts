/**
 * What a fixture file provides, read statically: the kind of snapshot it
 * returns, the VMs / bridges / sub-labs it creates on its root lab (the
 * members of `provium:lab_fixture(name)`), and the fixtures it resumes.
 */
import type { DocAnalysis } from '../analysis/doc-analysis.js';
import { span, isCall, callArgs } from '../analysis/ast.js';
import { stringValue, typeOf } from '../analysis/infer.js';
import { alternatives } from '../analysis/lua-types.js';
import type { FixtureMember, FixtureRef, FixtureSummary } from '../analysis/project-view.js';

const MEMBER_METHODS: Record<string, FixtureMember['kind']> = { vm: 'VM', bridge: 'Bridge', lab: 'Lab' };

export function summarizeFixture(a: DocAnalysis, name: string): FixtureSummary {
  const ctx = a.ctx;
  const members = new Map<string, FixtureMember>();
  const deps: FixtureRef[] = [];
  a.doc.segments.forEach((seg, index) => {
    a.walkSegment(index, (node, scope) => {
      if (!isCall(node) || node.base.type !== 'MemberExpression' || node.base.indexer !== ':') return;
      const method = node.base.identifier.name;
      const args = callArgs(node);
      const first = stringValue(args[0]);
      if (first === undefined) return;
      const source = a.sourceOf(seg);
      const isMemberCall = MEMBER_METHODS[method] && (method === 'lab' || args.length >= 2);
      if (!isMemberCall && method !== 'vm_fixture' && method !== 'lab_fixture') return;
      const recv = typeOf(node.base.base, scope, source, ctx);
      if (!alternatives(recv).some((t) => t.kind === 'class' && t.name === 'Lab')) return;
      if (method === 'vm_fixture' || method === 'lab_fixture') deps.push({ name: first, method, loc: { source, range: span(args[0]) } });
      else if (recv.kind === 'class' && recv.lab?.root && !members.has(first)) members.set(first, { kind: MEMBER_METHODS[method], loc: { source, range: span(node) } });
    });
  });
  return { name, uri: a.doc.uri, kind: fixtureKind(a), members, deps };
}

function fixtureKind(a: DocAnalysis): FixtureSummary['kind'] {
  const top = [...a.topLevel()];
  const ret = [...top].reverse().find((p) => p.stmt.type === 'ReturnStatement');
  if (!ret || ret.stmt.type !== 'ReturnStatement') return a.doc.broken.length ? 'unknown' : 'none';
  const arg = ret.stmt.arguments[0];
  if (!arg) return 'none';
  const t = typeOf(arg, ret.scope, ret.source, a.ctx);
  if (t.kind === 'unknown') return 'unknown';
  const names = alternatives(t).map((x) => (x.kind === 'class' ? x.name : ''));
  if (names.includes('LabSnapshot')) return 'lab';
  if (names.includes('Snapshot')) return 'vm';
  return 'none';
}
