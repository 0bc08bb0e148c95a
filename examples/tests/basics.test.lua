-- The test framework on its own: no VM needed.
local text = require("helpers.text")

test("assertions show both values", function(t)
  t:assert_eq(#text.words("one two  three"), 3)
  t:assert_eq(text.title("hello wide world"), "Hello Wide World")
  t:assert_neq("apple", "orange")
  t:assert_contains("provium runs lua", "runs")
  t:assert_contains({ "a", "b" }, "b")
end)

test("tables compare deeply", function(t)
  t:assert_eq({ name = "a", tags = { 1, 2 } }, { name = "a", tags = { 1, 2 } })
end)

test("errors can be expected", function(t)
  local err = t:assert_raises(function() error("boom") end)
  t:assert_contains(tostring(err), "boom")
end)

test("tagged and logged", { tags = { "quick" }, owner = "docs" }, function(t)
  t:log("meta owner is " .. t.meta.owner)
  t:assert_eq(t.name, "tagged and logged")
end)

test("a skipped test says why", { skip = "shows how skip looks" }, function(t)
  t:fail("never runs")
end)
