/**
 * Decodes the `raw` text of a Lua string literal. luaparse leaves `value` null
 * in its default encoding mode, and its other modes reject characters outside
 * Latin-1 (test names are often UTF-8), so the analysis decodes `raw` itself.
 * The result is a JS string; `\ddd` and `\xXX` escapes produce the code unit
 * of that byte, which is what an author who writes them into a name expects
 * to see echoed back.
 */

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'", '\n': '\n' };

/** The value of a Lua string literal from its source text; undefined if `raw` is not a complete literal. */
export function decodeLuaString(raw: string): string | undefined {
  const long = /^\[(=*)\[/.exec(raw);
  if (long) {
    const close = `]${long[1]}]`;
    if (!raw.endsWith(close) || raw.length < long[0].length + close.length) return undefined;
    let body = raw.slice(long[0].length, raw.length - close.length);
    // A newline right after the opening bracket is skipped.
    if (body.startsWith('\r\n')) body = body.slice(2);
    else if (body.startsWith('\n')) body = body.slice(1);
    return body;
  }
  const q = raw[0];
  if ((q !== '"' && q !== "'") || raw.length < 2 || raw[raw.length - 1] !== q) return undefined;
  const body = raw.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) return undefined;
    if (e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e];
    else if (e === 'x') {
      const hex = /^[0-9a-fA-F]{2}/.exec(body.slice(i + 1));
      if (!hex) return undefined;
      out += String.fromCharCode(parseInt(hex[0], 16));
      i += 2;
    } else if (e === 'z') {
      while (i + 1 < body.length && /\s/.test(body[i + 1])) i++;
    } else if (e === 'u') {
      const u = /^\{([0-9a-fA-F]+)\}/.exec(body.slice(i + 1));
      if (!u) return undefined;
      const cp = parseInt(u[1], 16);
      if (cp > 0x10ffff) return undefined;
      out += String.fromCodePoint(cp);
      i += u[0].length;
    } else if (/[0-9]/.test(e)) {
      const dec = /^[0-9]{1,3}/.exec(body.slice(i))!;
      const n = Number(dec[0]);
      if (n > 255) return undefined;
      out += String.fromCharCode(n);
      i += dec[0].length - 1;
    } else if (e === '\r') {
      out += '\n';
      if (body[i + 1] === '\n') i++;
    } else return undefined;
  }
  return out;
}
