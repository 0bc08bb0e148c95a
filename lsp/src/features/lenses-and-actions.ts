/**
 * "Run this test" / "run this file" as code lenses and as code actions
 * (eglot shows no code lenses), plus the quick fixes of diagnostics.
 */
import { CodeActionKind, type CodeAction, type CodeLens, type Range } from 'vscode-languageserver';
import type { SourceDoc } from '../analysis/document.js';
import type { Steps } from '../analysis/steps.js';
import { toOffset, toRange } from '../positions.js';
import type { Project } from '../project/workspace.js';
import { problemSteps, toDiagnostic } from './diagnostics.js';
import { RUN_FILE, RUN_TEST } from './run-tests.js';
import { testSteps } from './symbols.js';

export function* codeLenses(project: Project, doc: SourceDoc): Steps<CodeLens[]> {
  if (doc.kind !== 'test') return [];
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return [
    { range: top, command: { title: '▶ Run file', command: RUN_FILE, arguments: [doc.uri] } },
    ...(yield* testSteps(project, doc)).map((t) => ({ range: toRange(doc, t.range[0], t.range[0]), command: { title: '▶ Run test', command: RUN_TEST, arguments: [doc.uri, t.name] } })),
  ];
}

export function* codeActions(project: Project, doc: SourceDoc, range: Range): Steps<CodeAction[]> {
  const start = toOffset(doc, range.start);
  const end = toOffset(doc, range.end);
  const actions: CodeAction[] = [];
  for (const p of yield* problemSteps(project, doc)) {
    if (!p.fix || p.end < start || p.start > end) continue;
    actions.push({
      title: p.fix.title,
      kind: CodeActionKind.QuickFix,
      diagnostics: [toDiagnostic(doc, p)],
      isPreferred: true,
      edit: { changes: { [doc.uri]: p.fix.edits.map((e) => ({ range: toRange(doc, e.start, e.end), newText: e.newText })) } },
    });
  }
  if (doc.kind === 'test') {
    for (const t of yield* testSteps(project, doc)) {
      if (t.range[0] <= start && start <= t.range[1]) actions.push({ title: `Run test "${t.name}"`, command: { title: `Run test "${t.name}"`, command: RUN_TEST, arguments: [doc.uri, t.name] } });
    }
    actions.push({ title: 'Run this file', command: { title: 'Run this file', command: RUN_FILE, arguments: [doc.uri] } });
  }
  return actions;
}
