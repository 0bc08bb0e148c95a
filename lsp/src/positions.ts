/**
 * The one place where analysis offsets become LSP positions and back
 * (UTF-16 code units, the LSP default, which is what JS offsets are).
 */
import type { Position, Range } from 'vscode-languageserver';
import type { SourceDoc } from './analysis/document.js';

export function toPosition(doc: SourceDoc, offset: number): Position {
  return doc.lines.position(Math.max(0, Math.min(offset, doc.text.length)));
}

export function toRange(doc: SourceDoc, start: number, end: number): Range {
  return { start: toPosition(doc, start), end: toPosition(doc, end) };
}

export function toOffset(doc: SourceDoc, p: Position): number {
  return doc.lines.offset(p.line, p.character, doc.text.length);
}
