/**
 * The one place luaparse is called. Options follow the measurements in
 * platform-notes: `ranges` only (no `locations`: line numbers come from the
 * document's LineIndex), default encoding mode (string values are decoded
 * from `raw`, see lua-strings.ts). Each node's range becomes its `from` / `to`
 * properties (see ast.ts), in slots its factory made (node-factories.ts).
 */
import luaparse from 'luaparse';
import type { Node, Statement } from './ast.js';
import { installNodeFactories } from './node-factories.js';

installNodeFactories();

export interface SyntaxProblem {
  /** luaparse's message without its `[line:col]` prefix. */
  message: string;
  /** Offset (relative to the parsed text) of the token luaparse stopped at. */
  index: number;
}

export type ParseResult =
  | { ok: true; body: Statement[] }
  | { ok: false; error: SyntaxProblem; /** Local declarations luaparse completed before the error. */ partial: Node[] };

export function parseLua(text: string): ParseResult {
  const partial: Node[] = [];
  try {
    const chunk = luaparse.parse(text, {
      luaVersion: '5.3',
      ranges: true,
      locations: false,
      comments: false,
      scope: false,
      onCreateNode: (n) => {
        // Two numbers instead of a [from, to] array per node: about 60 bytes less for each of them.
        // luaparse attaches the range just before this call and never reads it again; the node's
        // factory made slots for all three (node-factories.ts).
        const node = n as Node & { range?: [number, number] };
        node.from = node.range![0];
        node.to = node.range![1];
        node.range = undefined;
        // luaparse fills its lists with push(), which reserves 16 slots for the first element:
        // exact-size copies keep the trees of a large workspace small.
        const fields = node as unknown as Record<string, unknown>;
        for (const k in fields) {
          const v = fields[k];
          if (Array.isArray(v)) fields[k] = v.slice();
        }
        // Recovery only needs the local declarations completed before an error.
        if (node.type === 'LocalStatement' || (node.type === 'FunctionDeclaration' && node.isLocal)) partial.push(node);
      },
    });
    return { ok: true, body: chunk.body };
  } catch (e) {
    const err = e as Error & { index?: number };
    if (typeof err.index !== 'number') throw e;
    return { ok: false, error: { message: err.message.replace(/^\[\d+:\d+\]\s*/, ''), index: err.index }, partial };
  }
}
