/** Document symbols: the tests of a file (and top-level functions). */
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver';
import { callArgs, isCall } from '../analysis/ast.js';
import type { SourceDoc } from '../analysis/document.js';
import { stringValue } from '../analysis/infer.js';
import { runSteps, STEP_CHARS, type Steps } from '../analysis/steps.js';
import { lookup } from '../analysis/scope.js';
import { toRange } from '../positions.js';
import type { Project } from '../project/workspace.js';

export interface TestDecl {
  name: string;
  /** Absolute range of the `test(...)` call and of its name argument. */
  range: [number, number];
  nameRange: [number, number];
}

/** Every `test("name", ...)` call of a document, in order. */
export function* testSteps(project: Project, doc: SourceDoc): Steps<TestDecl[]> {
  const a = project.analysis(doc);
  const out: TestDecl[] = [];
  let work = 0;
  for (let i = 0; i < doc.segments.length; i++) {
    const seg = doc.segments[i];
    a.walkSegment(i, (node, scope) => {
      if (!isCall(node) || node.base.type !== 'Identifier' || node.base.name !== 'test' || lookup(scope, 'test')) return;
      const arg = callArgs(node)[0];
      const name = stringValue(arg);
      if (name === undefined) return;
      out.push({ name, range: [seg.base + node.from, seg.base + node.to], nameRange: [seg.base + arg.from, seg.base + arg.to] });
      return 'skip';
    });
    if ((work += seg.length) >= STEP_CHARS) {
      work = 0;
      yield;
    }
  }
  return out;
}

export function testsOf(project: Project, doc: SourceDoc): TestDecl[] {
  return runSteps(testSteps(project, doc));
}

export function* documentSymbols(project: Project, doc: SourceDoc): Steps<DocumentSymbol[]> {
  const symbols: DocumentSymbol[] = (yield* testSteps(project, doc)).map((t) => ({
    name: t.name,
    detail: 'test',
    kind: SymbolKind.Method,
    range: toRange(doc, t.range[0], t.range[1]),
    selectionRange: toRange(doc, t.nameRange[0], t.nameRange[1]),
  }));
  for (const seg of doc.segments) {
    for (const s of seg.body ?? []) {
      if (s.type !== 'FunctionDeclaration' || !s.identifier) continue;
      const id = s.identifier;
      const name = id.type === 'Identifier' ? id.name : `${doc.text.slice(seg.base + id.base.from, seg.base + id.base.to)}${id.indexer}${id.identifier.name}`;
      symbols.push({ name, kind: SymbolKind.Function, range: toRange(doc, seg.base + s.from, seg.base + s.to), selectionRange: toRange(doc, seg.base + id.from, seg.base + id.to) });
    }
  }
  return symbols.sort((x, y) => x.range.start.line - y.range.start.line);
}
