-- wait_until polls a predicate without blocking other files; durations take units.
provium.timeout = "1m"

test("wait_until returns the first truthy value", function(t)
  local calls = 0
  local value = wait_until(function()
    calls = calls + 1
    return calls >= 3 and calls
  end, { timeout = "2s", interval = "10ms", desc = "third call" })
  t:assert_eq(value, 3)
end)

test("wait_until names what it waited for", function(t)
  local err = t:assert_raises(function()
    wait_until(function() return false end, { timeout = "50ms", interval = "10ms", desc = "the impossible" })
  end)
  t:assert_contains(tostring(err), "the impossible")
end)

test("host files through io", function(t)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write("line 1\n", "\0binary\255\n")
  f:close()
  local lines = {}
  for l in io.lines(path) do lines[#lines + 1] = l end
  os.remove(path)
  t:assert_eq(lines[1], "line 1")
  t:assert_eq(lines[2], "\0binary\255")
end)
