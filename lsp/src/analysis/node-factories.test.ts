// The node factories that give every node its position slots build the same trees as luaparse's own:
// a program using every kind of node, parsed both ways, gives equal trees (range [a, b] read as from a, to b).
import luaparse from 'luaparse';
import { expect, test } from 'vitest';

const lp = luaparse as unknown as { ast: Record<string, unknown> };
const original = { ...lp.ast };

const SOURCE = `
local a, b = 1, 0x1F
local s, l, n, t, f = "x\\n", [[long]], nil, true, false
local function g(x, ...) return x, ... end
function M.h(y) end
function M:m() return self end
x, y.z, w[1] = -a, not b, #s
local tbl = { 1, k = 2, [3] = "v", { nested = {} } }
if a > 1 and b < 2 or not c then f() elseif a == 2 then g"s" else h{1} end
while a ~= 0 do a = a - 1 break end
repeat a = a + 1 until a >= 3
do local q = a .. "x" end
for i = 1, 10, 2 do print(i) end
for k, v in pairs(tbl) do v:m(k).z[1]("y") end
::top:: goto top
return a, (b)
`;

// Parsed with luaparse's own factories, before parse.ts replaces them.
const expected = luaparse.parse(SOURCE, { luaVersion: '5.3', ranges: true, comments: false }).body;
const { parseLua } = await import('./parse.js');

/** luaparse's tree as parse.ts stores it: `range: [a, b]` becomes `from: a, to: b`. */
function positioned(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(positioned);
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'range') [out.from, out.to] = x as [number, number];
    else out[k] = positioned(x);
  }
  return out;
}

test('every factory luaparse calls is replaced (comments are never asked for)', () => {
  expect(Object.keys(original).filter((k) => lp.ast[k] === original[k])).toEqual(['comment']);
});

test('the trees are luaparse\'s, field for field, with from/to for range', () => {
  const r = parseLua(SOURCE);
  if (!r.ok) throw new Error(r.error.message);
  expect(JSON.parse(JSON.stringify(r.body))).toEqual(positioned(expected));
  // The same fields in the same order (JSON keeps it; range, now undefined, is left out), so code
  // that walks a node's keys sees what it saw before.
  expect(JSON.stringify(r.body)).toBe(JSON.stringify(positioned(expected)));
});
