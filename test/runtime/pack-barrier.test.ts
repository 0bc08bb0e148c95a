/**
 * `provium.pack`/`unpack` and `lab:barrier` (the sheet's §2) in real Lua
 * files, no VM: the barrier's parties are the file's coroutines.
 */
import { afterAll, expect, test } from 'vitest';
import { cleanupRuns, runLua } from './helpers.js';

afterAll(cleanupRuns);

test('pack and unpack work with the dot and the colon, on the root lab and a sub-lab', async () => {
  const run = await runLua(`
test("pack", function(t)
  local s = provium.pack("<i4 z s1", 7, "ab", "xyz")
  t:assert_eq(s, string.pack("<i4 z s1", 7, "ab", "xyz"))
  t:assert_eq(provium:pack("<i4 z s1", 7, "ab", "xyz"), s)
  t:assert_eq(#provium:pack(">I2", 258), 2)
  t:assert_eq(provium:pack(">I2", 258), "\\1\\2")
  local a, b, c, nxt = provium.unpack("<i4 z s1", s)
  t:assert_eq({ a, b, c, nxt }, { 7, "ab", "xyz", #s + 1 })
  local sub = provium:lab("inner")
  t:assert_eq({ sub:unpack("<i4", s) }, { 7, 5 })
  t:assert_eq(provium.pack, provium.pack)
  t:assert_contains(tostring(t:assert_raises(function() provium.pack("<i4", "x") end)), "number expected")
  t:assert_eq(math.type(provium.unpack("<d", provium.pack("<d", 1.5))), "float")
  -- fengari's integers are 32-bit (docs/labs.md): i8 is sign-extended, j is 4 bytes, 2^40 does not fit
  t:assert_eq({ #provium.pack("<i8", -5), provium.unpack("<i8", provium.pack("<i8", -5)), #provium.pack("j", 1) }, { 8, -5, 4 })
  t:assert_contains(tostring(t:assert_raises(function() provium.pack("<i8", 2^40) end)), "no integer representation")
  -- a bad format is raised where the author called it, under the name they used
  local bad = tostring(t:assert_raises(function() provium:unpack("i99", "x") end))
  t:assert(bad:find("^[^:]+:%d+: provium%.unpack: integral size %(99%) out of limits"), bad)
end)
`);
  expect(run.results.get('pack')?.event, JSON.stringify(run.results.get('pack'))).toBe('test_passed');
});

test('a barrier releases every coroutine of a round together, rounds repeat, and a timeout withdraws the arrival', async () => {
  const run = await runLua(`
test("rounds", function(t)
  local log = {}
  local function party(id)
    return coroutine.create(function()
      for round = 1, 2 do
        log[#log + 1] = id .. " arrives " .. round
        local ok = provium:barrier("sync", 3)
        log[#log + 1] = id .. " passes " .. round .. " " .. tostring(ok)
      end
    end)
  end
  local cos = { party("a"), party("b") }
  -- the scheduler: each resume lets a waiting party check the barrier again
  for _, co in ipairs(cos) do assert(coroutine.resume(co)) end
  t:assert_eq(#log, 2) -- both wait: 2 of 3
  t:assert_eq(provium:barrier("sync", 3), true) -- the third arrival (the test body) releases the round
  for _, co in ipairs(cos) do assert(coroutine.resume(co)) end
  t:assert_eq(log, { "a arrives 1", "b arrives 1", "a passes 1 true", "a arrives 2", "b passes 1 true", "b arrives 2" })
  t:assert_eq(provium:barrier("sync", 3), true)
  for _, co in ipairs(cos) do assert(coroutine.resume(co)) end
  t:assert_eq({ coroutine.status(cos[1]), coroutine.status(cos[2]) }, { "dead", "dead" })
end)
test("count 1, another count, timeout", function(t)
  t:assert_eq(provium:barrier("one", 1), true)
  local co = coroutine.wrap(function() return provium:barrier("pair", 2, 0.05) end)
  t:assert_eq(co(), nil) -- waiting: a plain yield to its resumer
  t:assert_eq(provium:barrier("pair", 3), false) -- another count: false at once, no arrival
  local got
  repeat got = co() until got ~= nil -- the timeout passes while it takes turns
  t:assert_eq(got, false)
  -- its arrival was withdrawn: a lone arrival in the body waits out its own timeout
  t:assert_eq(provium:barrier("pair", 2, "10ms"), false)
  local sub = provium:lab("other")
  t:assert_eq(sub:barrier("pair", 5, 0), false) -- each lab has its own names
end)
test("argument errors", function(t)
  t:assert_contains(tostring(t:assert_raises(function() provium:barrier(1, 2) end)), "name")
  t:assert_contains(tostring(t:assert_raises(function() provium:barrier("x", 2.5) end)), "int")
  t:assert_contains(tostring(t:assert_raises(function() provium:barrier("x", 2.0) end)), "count")
  t:assert_contains(tostring(t:assert_raises(function() provium:barrier("x", "2") end)), "int")
  t:assert_contains(tostring(t:assert_raises(function() provium:barrier("x", 2, "soon") end)), "soon")
end)
`);
  for (const name of ['rounds', 'count 1, another count, timeout', 'argument errors']) {
    expect(run.results.get(name)?.event, `${name}: ${JSON.stringify(run.results.get(name))}`).toBe('test_passed');
  }
  const timeoutTest = run.results.get('count 1, another count, timeout');
  expect(timeoutTest?.event === 'test_passed' && timeoutTest.log.join('\n')).toContain('lab:barrier("pair", 3): this barrier\'s count is 2');
});
