/**
 * Finding the node (and its scope) at a cursor in code that is being typed.
 * Techniques, tried in order:
 *  1. the segment's own tree, when it parses;
 *  2. a placeholder at the cursor (`vm:` -> `vm:__p()`) in the text from the
 *     segment start to the cursor, with every still-open block and bracket
 *     closed (`print(vm:` -> `print(vm:__p())`), re-parsed: only one top-level
 *     statement's prefix, so this stays fast in a large file;
 *  3. when even that fails (a syntax error earlier in the same statement):
 *     declarations from the nodes luaparse completed before the error, and a
 *     backward token scan for the receiver expression (see fallback*).
 * Declarations of broken segments above the cursor come from their last good
 * tree (doc-analysis.ts).
 */
import type { Node, Statement } from './ast.js';
import { closingText, openBlocks } from './brackets.js';
import type { DocAnalysis } from './doc-analysis.js';
import { typeOf, type InferCtx } from './infer.js';
import { classType, UNKNOWN, type LuaType, type Source } from './lua-types.js';
import { parseLua } from './parse.js';
import { bind, type Scope } from './scope.js';
import { lex, stringCloser, type Token } from './tokens.js';
import { declareStatement, walkBlock } from './walk.js';

export interface NodeHit {
  node: Node;
  /** Ancestors, outermost first, ending with `node`. */
  path: Node[];
  scope: Scope;
  source: Source;
}

export const PLACEHOLDER = '__p';

/** The innermost node whose range holds `pos` (relative to `source`), with its scope. */
export function findInTree(body: Statement[], entry: Scope, source: Source, pos: number, rest?: Parameters<typeof walkBlock>[4]): NodeHit | undefined {
  let hit: NodeHit | undefined;
  let path: Node[] = [];
  walkBlock(body, entry, {
    source,
    visit: (n, scope, parent) => {
      if (!(n.from <= pos && pos <= n.to)) return 'skip';
      const at = parent ? path.lastIndexOf(parent) : -1;
      path = [...path.slice(0, at + 1), n];
      hit = { node: n, path, scope, source };
    },
  }, undefined, rest);
  return hit;
}

export interface Patched {
  body: Statement[];
  source: Source;
  entry: Scope;
  /** The prefix as re-parsed (before the closers), relative to the segment start. */
  prefix: string;
}

/**
 * Parses the text from the start of the segment holding `offset` up to
 * `offset`, followed by the first of `suffixes` that makes it parse, then
 * closers for every open block. Undefined when none parses.
 */
export function parsePatched(a: DocAnalysis, offset: number, suffixes: string[]): Patched | undefined {
  const index = a.doc.segmentIndexAt(offset);
  const seg = a.doc.segments[index];
  let prefix = a.doc.text.slice(seg.start, offset);
  const last = lex(prefix).tokens.at(-1);
  if (last?.unterminated && last.end === prefix.length) prefix += stringCloser(last);
  const source: Source = { uri: a.doc.uri, base: seg.start };
  for (const suffix of suffixes) {
    const text = prefix + suffix;
    const r = parseLua(text + closingText(openBlocks(lex(text).tokens)));
    if (r.ok) return { body: r.body, source, entry: a.entryScope(index), prefix: text };
  }
  return undefined;
}

/** The node at `offset` for hover and go-to: the segment's tree, else a patched parse. */
export function nodeAt(a: DocAnalysis, offset: number): NodeHit | undefined {
  const index = a.doc.segmentIndexAt(offset);
  const seg = a.doc.segments[index];
  if (seg.body) return findInTree(seg.body, a.entryScope(index), a.sourceOf(seg), offset - seg.base, a.rest(index));
  // Complete the word under the cursor, then patch.
  const m = /^[A-Za-z0-9_]*/.exec(a.doc.text.slice(offset))!;
  const end = offset + m[0].length;
  const p = parsePatched(a, end, ['', '()', `${PLACEHOLDER}()`]);
  return p && findInTree(p.body, p.entry, p.source, offset - seg.start);
}

/**
 * Technique 3, scope: the entry scope plus the local declarations among the
 * nodes luaparse completed before the segment's syntax error, plus the `t`
 * of an unclosed `test(..., function(t)` found by the token scan.
 */
export function fallbackScope(a: DocAnalysis, offset: number, tokens: Token[]): Scope {
  const index = a.doc.segmentIndexAt(offset);
  const seg = a.doc.segments[index];
  let scope = a.entryScope(index);
  const source: Source = { uri: a.doc.uri, base: seg.base };
  const rel = offset - seg.base;
  const decls = (seg.partial ?? []).filter((n): n is Statement => (n.type === 'LocalStatement' || (n.type === 'FunctionDeclaration' && n.isLocal)) && n.to <= rel);
  decls.sort((x, y) => x.from - y.from);
  for (const d of decls) scope = declareStatement(d, scope, source);
  for (const b of openBlocks(tokens)) {
    const k = tokens.indexOf(b.opener);
    if (b.opener.text !== 'function' || tokens[k - 1]?.text !== ',' || tokens[k + 1]?.text !== '(' || tokens[k + 2]?.kind !== 'name') continue;
    const call = enclosingCall(tokens, k - 1);
    if (call && tokens[call.open - 1]?.text === 'test' && tokens[call.open - 2]?.text !== '.' && tokens[call.open - 2]?.text !== ':') {
      scope = bind(scope, { name: tokens[k + 2].text, fixed: classType('TestContext') });
    }
  }
  return scope;
}

/** The unmatched `(` before token `index` and how many arguments precede that position. */
export function enclosingCall(tokens: Token[], index: number): { open: number; argIndex: number } | undefined {
  let depth = 0;
  let commas = 0;
  for (let k = index; k >= 0; k--) {
    const t = tokens[k].text;
    if (tokens[k].kind !== 'punct') continue;
    if (t === ')' || t === '}' || t === ']') depth++;
    else if (t === '(' || t === '{' || t === '[') {
      if (depth === 0) return t === '(' ? { open: k, argIndex: commas } : undefined;
      depth--;
    } else if (t === ',' && depth === 0) commas++;
  }
  return undefined;
}

const MATCH: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** Index of the first token of the prefix expression (`a.b:c(x)[1]`) that ends at token `end`. */
export function chainStart(tokens: Token[], end: number): number | undefined {
  let i = end;
  for (;;) {
    const t = tokens[i];
    if (!t) return undefined;
    if (t.kind === 'punct' && MATCH[t.text]) {
      let depth = 0;
      let j = i;
      for (; j >= 0; j--) {
        if (tokens[j].text === t.text && tokens[j].kind === 'punct') depth++;
        else if (tokens[j].text === MATCH[t.text] && tokens[j].kind === 'punct' && --depth === 0) break;
      }
      if (j < 0) return undefined;
      const prev = tokens[j - 1];
      if (prev && (prev.kind === 'name' || prev.kind === 'string' || [')', ']'].includes(prev.text))) {
        i = j - 1;
        continue;
      }
      return j;
    }
    if (t.kind === 'name' || t.kind === 'string') {
      const prev = tokens[i - 1];
      if (prev && (prev.text === '.' || prev.text === ':') && prev.kind === 'punct') {
        i -= 2;
        continue;
      }
      return i;
    }
    return undefined;
  }
}

/** Technique 3, receiver: re-parses the expression that ends at token `end` on its own and types it. */
export function typeByScan(text: string, tokens: Token[], end: number, scope: Scope, uri: string, ctx: InferCtx): LuaType {
  const start = chainStart(tokens, end);
  if (start === undefined) return UNKNOWN;
  const expr = text.slice(tokens[start].start, tokens[end].end);
  const r = parseLua(`return ${expr}`);
  if (!r.ok || r.body[0]?.type !== 'ReturnStatement' || !r.body[0].arguments[0]) return UNKNOWN;
  return typeOf(r.body[0].arguments[0], scope, { uri, base: NaN }, ctx);
}
