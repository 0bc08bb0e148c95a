/**
 * The one place luaparse is called. Options follow the measurements in
 * platform-notes: `ranges` only (no `locations`: line numbers come from the
 * document's LineIndex), default encoding mode (string values are decoded
 * from `raw`, see lua-strings.ts).
 */
import luaparse from 'luaparse';
import type { Node, Statement } from './ast.js';

export interface SyntaxProblem {
  /** luaparse's message without its `[line:col]` prefix. */
  message: string;
  /** Offset (relative to the parsed text) of the token luaparse stopped at. */
  index: number;
}

export type ParseResult =
  | { ok: true; body: Statement[] }
  | { ok: false; error: SyntaxProblem; /** Nodes luaparse completed before the error. */ partial: Node[] };

export function parseLua(text: string): ParseResult {
  const partial: Node[] = [];
  try {
    const chunk = luaparse.parse(text, {
      luaVersion: '5.3',
      ranges: true,
      locations: false,
      comments: false,
      scope: false,
      onCreateNode: (n) => partial.push(n as Node),
    });
    return { ok: true, body: chunk.body };
  } catch (e) {
    const err = e as Error & { index?: number };
    if (typeof err.index !== 'number') throw e;
    return { ok: false, error: { message: err.message.replace(/^\[\d+:\d+\]\s*/, ''), index: err.index }, partial };
  }
}
