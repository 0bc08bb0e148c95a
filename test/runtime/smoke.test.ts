import { afterAll, expect, test } from 'vitest';
import { cleanupRuns, runLua } from './helpers.js';

afterAll(cleanupRuns);

test('smoke', async () => {
  const r = await runLua(`
print("top")
test("a", function(t) t:assert_eq(1, 1) print("in a") end)
test("b", function(t) t:assert_eq("apple", "orange") end)
test("c", function(t) wait_until(function() return true end) end)
`);
  console.log(JSON.stringify(r.outcome, null, 1), JSON.stringify(r.events, null, 1));
  expect(r.outcome.passed).toBe(2);
});
