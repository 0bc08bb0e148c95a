/**
 * Which blocks and brackets are still open at the end of a text, from its
 * tokens: `(`, `{`, `[`, `function`/`if`/`do`/`while`/`for` ... `end`,
 * `repeat` ... `until`. Used to close a half-typed statement so that it parses,
 * and to name the opener in "'end' expected" messages.
 */
import type { Token } from './tokens.js';

export interface OpenBlock {
  opener: Token;
  closer: ')' | '}' | ']' | 'end' | 'until';
  /** A header still missing its `then` / `do`. */
  pending?: 'then' | 'do';
}

const PAIRS: Record<string, OpenBlock['closer']> = { '(': ')', '{': '}', '[': ']' };

function popTo(stack: OpenBlock[], closer: OpenBlock['closer']): void {
  for (let k = stack.length - 1; k >= 0; k--) {
    if (stack[k].closer === closer) {
      stack.length = k;
      return;
    }
  }
}

export function openBlocks(tokens: Token[]): OpenBlock[] {
  const stack: OpenBlock[] = [];
  const top = () => stack[stack.length - 1];
  for (const t of tokens) {
    if (t.kind === 'punct') {
      if (PAIRS[t.text]) stack.push({ opener: t, closer: PAIRS[t.text] });
      else if (t.text === ')' || t.text === '}' || t.text === ']') popTo(stack, t.text);
      continue;
    }
    if (t.kind !== 'keyword') continue;
    switch (t.text) {
      case 'function': stack.push({ opener: t, closer: 'end' }); break;
      case 'if': stack.push({ opener: t, closer: 'end', pending: 'then' }); break;
      case 'while': case 'for': stack.push({ opener: t, closer: 'end', pending: 'do' }); break;
      case 'repeat': stack.push({ opener: t, closer: 'until' }); break;
      case 'then': case 'elseif': {
        const b = [...stack].reverse().find((x) => x.closer === 'end');
        if (b) b.pending = t.text === 'then' ? undefined : 'then';
        break;
      }
      case 'do': {
        const b = top();
        if (b?.pending === 'do') b.pending = undefined;
        else stack.push({ opener: t, closer: 'end' });
        break;
      }
      case 'end': popTo(stack, 'end'); break;
      case 'until': popTo(stack, 'until'); break;
    }
  }
  return stack;
}

/** Text that closes every open block, innermost first (` then end)`). */
export function closingText(stack: OpenBlock[]): string {
  let out = '';
  for (let k = stack.length - 1; k >= 0; k--) {
    const b = stack[k];
    if (b.pending) out += ` ${b.pending}`;
    out += b.closer === 'until' ? ' until true' : ` ${b.closer}`;
  }
  return out;
}
