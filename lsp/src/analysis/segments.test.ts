// A long text is segmented a piece at a time, with the statements a whole parse gives.
import { expect, test } from 'vitest';
import { parseLua } from './parse.js';
import { segmentSteps, type Segment } from './segments.js';
import { STEP_CHARS } from './steps.js';

function run(text: string): { segments: Segment[]; steps: number } {
  const g = segmentSteps(text);
  let steps = 0;
  for (;;) {
    const r = g.next();
    if (r.done) return { segments: r.value, steps };
    steps++;
  }
}

/** Each statement as its type and absolute range. */
const statements = (segs: Segment[]) => segs.flatMap((s) => (s.body ?? []).map((b) => [b.type, s.base + b.from, s.base + b.to]));

function tiles(segs: Segment[], length: number): boolean {
  return segs.every((s, k) => s.start === (k === 0 ? 0 : segs[k - 1].start + segs[k - 1].length)) && segs.at(-1)!.start + segs.at(-1)!.length === length;
}

/** `n` tests, with code at column 0 that is not a statement start: inside a comment, a long string, an unindented body, a table. */
function longText(n: number): string {
  const out = ['local vm = provium:vm("main", "default")'];
  for (let i = 0; i < n; i++) {
    out.push(`test("case ${i}", function(t)`, `  t:log(vm:run("echo ${i}").stdout)`, 'end)');
    if (i % 500 === 0) {
      out.push('--[[ a comment', 'test("not a test")', ']]', 'local s = [[', 'vm:run("not code")', ']]');
      out.push('function f()', 'local x = 1', 'return x', 'end', 'local t = {', 'a = 1,', '}');
    }
  }
  return out.join('\n') + '\n';
}

test('a long text is parsed in pieces of about STEP_CHARS, into the statements of a whole parse', () => {
  const text = longText(4000);
  expect(text.length).toBeGreaterThan(4 * STEP_CHARS);
  const { segments, steps } = run(text);
  const whole = parseLua(text);
  expect(whole.ok).toBe(true);
  expect(statements(segments)).toEqual(whole.ok ? whole.body.map((b) => [b.type, b.from, b.to]) : []);
  expect(tiles(segments, text.length)).toBe(true);
  expect(steps).toBeGreaterThanOrEqual(Math.floor(text.length / STEP_CHARS));
  expect(steps).toBeLessThan(2 * Math.ceil(text.length / STEP_CHARS));
});

test('a syntax error in a long text costs one segment; the statements around it keep their trees', () => {
  const good = longText(3000);
  const at = good.indexOf('test("case 1500"');
  const text = `${good.slice(0, at)}vm:run(("x")\n${good.slice(at)}`;
  const { segments } = run(text);
  expect(segments.filter((s) => !s.body).map((s) => text.slice(s.start, s.start + s.length))).toEqual(['vm:run(("x")\n']);
  expect(statements(segments)).toHaveLength((parseLua(good) as { body: unknown[] }).body.length);
  expect(tiles(segments, text.length)).toBe(true);
});

test('a long text broken from its first line (an unclosed function): the pieces grow to its end, then the rest keeps its trees', () => {
  const rest = longText(3000);
  const text = `local function f()\n${rest}`;
  const { segments } = run(text);
  expect(segments.filter((s) => !s.body).map((s) => text.slice(s.start, s.start + s.length))).toEqual(['local function f()\n']);
  expect(statements(segments)).toHaveLength((parseLua(rest) as { body: unknown[] }).body.length);
  expect(tiles(segments, text.length)).toBe(true);
});
