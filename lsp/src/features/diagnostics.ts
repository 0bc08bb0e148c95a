/**
 * Diagnostics of a document: syntax errors and type checks per segment
 * (cached while the segment, the declarations before it and the project are
 * unchanged, so a keystroke in one test re-checks only that test), the
 * document-level checks, and the failures of the last "run this test".
 */
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import { checkDocument, checkSegment } from '../analysis/checks.js';
import type { Problem } from '../analysis/problems.js';
import type { SourceDoc } from '../analysis/document.js';
import type { Segment } from '../analysis/segments.js';
import type { Placed, Scope } from '../analysis/scope.js';
import { STEP_CHARS, type Steps } from '../analysis/steps.js';
import { toRange } from '../positions.js';
import type { Project } from '../project/workspace.js';

interface Cached {
  entry: Scope;
  version: number;
  declEpoch: number;
  problems: Problem[];
}

const cache = new WeakMap<Segment, Cached>();

/** Every static problem of `doc`, with absolute offsets. */
export function* problemSteps(project: Project, doc: SourceDoc): Steps<Problem[]> {
  const a = project.analysis(doc);
  const out: Problem[] = [];
  let work = 0;
  for (let i = 0; i < doc.segments.length; i++) {
    const seg = doc.segments[i];
    const entry = a.entryScope(i);
    let c = cache.get(seg);
    if (!c || c.entry !== entry || c.version !== project.version || c.declEpoch !== doc.declEpoch) {
      c = { entry, version: project.version, declEpoch: doc.declEpoch, problems: checkSegment(a, i) };
      cache.set(seg, c);
    }
    const base = seg.base;
    for (const p of c.problems) {
      out.push({ ...p, start: p.start + base, end: p.end + base, fix: p.fix && { ...p.fix, edits: p.fix.edits.map((e) => ({ ...e, start: e.start + base, end: e.end + base })) } });
    }
    if ((work += seg.length) >= STEP_CHARS) {
      work = 0;
      yield;
    }
  }
  const top: Placed[] = [];
  for (const p of a.topLevel()) {
    top.push(p);
    if ((work += p.stmt.to - p.stmt.from) >= STEP_CHARS) {
      work = 0;
      yield;
    }
  }
  out.push(...checkDocument(a, top));
  return out;
}

export function toDiagnostic(doc: SourceDoc, p: Problem): Diagnostic {
  return {
    range: toRange(doc, p.start, p.end),
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    code: p.code,
    source: 'provium',
    message: p.message,
  };
}
