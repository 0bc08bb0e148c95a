/**
 * A small, error-tolerant Lua lexer for the recovery paths: it never throws,
 * and marks strings and comments that run to the end of the text as
 * unterminated (the author is still typing them). luaparse's own lexer stops
 * at the first malformed token, which is exactly where recovery needs to look.
 */

export type TokenKind = 'name' | 'keyword' | 'string' | 'number' | 'punct';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** A string literal without its closing quote/bracket. */
  unterminated?: boolean;
}

export const KEYWORDS = new Set([
  'and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if', 'in',
  'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while',
]);

const PUNCT = ['...', '..', '==', '~=', '<=', '>=', '<<', '>>', '//', '::', '+', '-', '*', '/', '%', '^', '#', '&', '~', '|', '<', '>', '=', '(', ')', '{', '}', '[', ']', ';', ':', ',', '.'];

/** Length of a long bracket opener `[[`, `[==[` at `i`, or 0. */
function longOpen(text: string, i: number): number {
  const m = /^\[(=*)\[/.exec(text.slice(i, i + 64));
  return m ? m[0].length : 0;
}

export interface LexResult {
  tokens: Token[];
  /** Set when the text ends inside a comment (a `--` line comment, or `--[[` never closed). */
  openComment?: { start: number };
}

/** Tokenizes `text` (comments and whitespace dropped). */
export function lex(text: string): LexResult {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      const lo = longOpen(text, i + 2);
      if (lo) {
        const close = `]${'='.repeat(lo - 2)}]`;
        const end = text.indexOf(close, i + 2 + lo);
        if (end < 0) return { tokens, openComment: { start: i } };
        i = end + close.length;
      } else {
        const nl = text.indexOf('\n', i);
        if (nl < 0) return { tokens, openComment: { start: i } };
        i = nl + 1;
      }
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_]/.test(text[i])) i++;
      const word = text.slice(start, i);
      tokens.push({ kind: KEYWORDS.has(word) ? 'keyword' : 'name', text: word, start, end: i });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(0[xX][0-9a-fA-F.]*([pP][+-]?[0-9]+)?|[0-9.]+([eE][+-]?[0-9]+)?)/.exec(text.slice(i, i + 128))!;
      i += m[0].length;
      tokens.push({ kind: 'number', text: text.slice(start, i), start, end: i });
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      let closed = false;
      while (i < n) {
        const d = text[i];
        if (d === '\\') i += 2;
        else if (d === c) {
          i++;
          closed = true;
          break;
        } else if (d === '\n') break;
        else i++;
      }
      i = Math.min(i, n);
      tokens.push({ kind: 'string', text: text.slice(start, i), start, end: i, unterminated: !closed || undefined });
      continue;
    }
    if (c === '[') {
      const lo = longOpen(text, i);
      if (lo) {
        const close = `]${'='.repeat(lo - 2)}]`;
        const end = text.indexOf(close, i + lo);
        i = end < 0 ? n : end + close.length;
        tokens.push({ kind: 'string', text: text.slice(start, i), start, end: i, unterminated: end < 0 || undefined });
        continue;
      }
    }
    const p = PUNCT.find((x) => text.startsWith(x, i)) ?? c;
    i += p.length;
    tokens.push({ kind: 'punct', text: p, start, end: i });
  }
  return { tokens };
}

/** The closing text a long-bracket string token still needs (`]]`, `]=]`), or the quote. */
export function stringCloser(tok: Token): string {
  const lo = /^\[(=*)\[/.exec(tok.text);
  return lo ? `]${lo[1]}]` : tok.text[0];
}
