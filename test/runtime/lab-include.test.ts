/**
 * `lab:include` with a list (issue 16), on sub-labs (no VM host here; VMs and
 * bridges take the same path). A list is checked whole; a bad element names its index.
 */
import { afterAll, expect, test } from 'vitest';
import { cleanupRuns, runLua } from './helpers.js';

afterAll(cleanupRuns);

test('include takes one member or a list; a bad list names the element and includes nothing', async () => {
  const run = await runLua(`
local function err(fn) local ok, e = pcall(fn) assert(not ok, "expected an error") return tostring(e) end
test("include", function(t)
  local lan = provium:lab("lan")
  local inner = provium:lab("inner")
  local side = provium:lab("side")
  side:include({ lan, inner })
  t:assert_eq(#side:members(), 2)
  side:remove(lan) side:remove(inner)
  side:include(lan)
  t:assert_eq(#side:members(), 1)
  side:remove(lan)

  local msg = err(function() side:include({ lan, "not-userdata" }) end)
  t:assert_contains(msg, "element [2]")
  t:assert_contains(msg, "handle (userdata), got string")
  t:assert_eq(#side:members(), 0, "nothing of a list with a bad element is included")

  -- an element the lab refuses (itself) after a good one: the good one is taken back
  msg = err(function() side:include({ lan, inner, side }) end)
  t:assert_contains(msg, "element [3] of the list: a lab cannot include itself; nothing in the list was included")
  t:assert_eq(#side:members(), 0)
end)
`);
  expect(run.results.get('include')?.event, JSON.stringify(run.results.get('include'))).toBe('test_passed');
});
