/**
 * The rest of issue 16's shapes and issue 17's barrier, in one Lua file on
 * ONE real default guest (booted at top level, shared by the tests): bridge
 * graph-only members and the cut flag of partition_all (no guest needed, on
 * VMs never booted), nic:counters().errors against the guest's own sysfs,
 * clock:get_ns/set_ns and stat().mtime_ns, and lab:barrier meeting two
 * coroutines whose guest processes overlap.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';
import { runSuite, testOutcome } from '../cli/helpers.js';

let dir: string;
let events: RunEvent[];

const SHAPES = `
local lan = provium:bridge("lan")
local a = provium:vm("a", "default")
lan:attach(a)
a:boot()

test("graph-only members: names that are no VM join the bridge's graph", function(t)
  local g = provium:bridge("graph")
  local x = provium:vm("x", "default") -- never booted: a bridge's graph needs no guest
  g:attach({ x, "ghost" })
  t:assert_eq(g:members(), { "ghost", "x" })
  g:partition("ghost", x)
  g:partition("p", "q") -- neither attached: recorded all the same
  t:assert_eq({ g:is_partitioned(x, "ghost"), g:is_partitioned("q", "p"), g:is_partitioned("ghost", "p") }, { true, true, false })
  -- one way between members (a graph-only one too) is graph state; an end that is no member is not attached
  g:partition({ from = "ghost", to = x })
  t:assert_contains(tostring(t:assert_raises(function() g:partition({ from = "nobody", to = x }) end)), "not attached")
  t:assert_contains(tostring(t:assert_raises(function() g:partition({ from = "ghost", to = provium:vm("stray", "default") }) end)), "not attached")
  g:unpartition({ from = "ghost", to = x })
  g:unpartition({ from = "nobody", to = x }) -- never checks attachment: nothing to lift
  local n = g:nic("ghost")
  t:assert_eq({ n:vm_name(), n:bridge() }, { "ghost", "graph" })
  t:assert_eq(n:counters(), { rx_bytes = 0, tx_bytes = 0, rx_packets = 0, tx_packets = 0, errors = 0 })
  n:disconnect()
  t:assert_eq({ g:members(), g:is_partitioned(x, "ghost") }, { { "x" }, false }) -- its partitions left with it
  n:reconnect()
  t:assert_eq(g:members(), { "ghost", "x" })
  g:isolate("ghost")
  t:assert_eq({ g:is_isolated("ghost"), g:is_isolated(x) }, { true, false })
  g:detach("ghost")
  t:assert_eq({ g:members(), g:is_isolated("ghost") }, { { "x" }, false })
end)

test("partition_all is a flag; restore_all clears only it; reset keeps attachments and isolation", function(t)
  local g = provium:bridge("cuts")
  local x, y = provium:vm("cx", "default"), provium:vm("cy", "default")
  g:attach({ x, "ghost" })
  g:partition(x, "ghost")
  g:isolate(x)
  g:partition_all()
  g:attach(y) -- attached after: cut too
  t:assert_eq({ g:is_partitioned(x, y), g:is_partitioned("any", "names"), g:is_partitioned(y, "ghost") }, { true, true, true })
  g:restore_all()
  t:assert_eq({ g:is_partitioned(x, y), g:is_partitioned(x, "ghost"), g:is_isolated(x) }, { false, true, true })
  g:partition(x, y)
  g:add_latency(20)
  g:drop_rate(5)
  g:partition_all()
  g:reset()
  t:assert_eq({ g:is_partitioned(x, y), g:is_partitioned(x, "ghost"), g:is_partitioned("any", "names"), g:latency_ms(), g:drop_rate_pct() }, { false, false, false, 0, 0 })
  t:assert_eq({ g:members(), g:is_isolated(x) }, { { "cx", "cy", "ghost" }, true })
end)

test("nic:counters() has errors: the guest's receive plus transmit errors", function(t)
  -- some traffic: ARP for an address of the bridge's subnet that nobody has
  a:run([[ping -c 1 -W 1 $(ip -o -4 addr show dev eth0 | awk '{split($4, q, "[./]"); print q[1] "." q[2] "." q[3] ".254"}') >/dev/null 2>&1; true]])
  local c = a:nic("lan"):counters()
  t:assert_eq(math.type(c.errors), "integer")
  local sys = a:run("for f in rx_errors tx_errors; do cat /sys/class/net/eth0/statistics/$f; done"):assert_ok().stdout
  local rx, tx = sys:match("(%d+)%s+(%d+)")
  t:assert_eq(c.errors, tonumber(rx) + tonumber(tx))
  t:assert(c.tx_packets > 0, "the ping left through the bridge")
end)

test("clock:get_ns/set_ns and stat().mtime_ns", function(t)
  local clock = a:clock()
  clock:set_ns("1700000000123456789") -- a string sets it exactly
  local ns = clock:get_ns()
  t:assert(ns >= 1700000000123456789 and ns < 1700000000123456789 + 30e9, "get_ns just after set_ns: " .. string.format("%.0f", ns))
  t:assert_eq(math.floor(clock:get()), 1700000000)
  local before = clock:get_ns()
  a:run("true")
  t:assert(clock:get_ns() > before, "the guest's clock moves on")
  clock:set_ns(1.8e18) -- a whole number as a float
  t:assert(clock:get_ns() >= 1.8e18, "set_ns(1.8e18)")
  t:assert_contains(tostring(t:assert_raises(function() clock:set_ns(1.5) end)), "whole number")
  t:assert_contains(tostring(t:assert_raises(function() clock:set_ns("12ab") end)), "decimal digits")
  a:write_file("/tmp/stamped", "x")
  local st = a:stat("/tmp/stamped")
  t:assert(st.mtime_ns >= 1.8e18 and st.mtime_ns < 1.8e18 + 30e9, "mtime_ns " .. string.format("%.0f", st.mtime_ns))
  t:assert_eq(math.floor(st.mtime), math.floor(st.mtime_ns / 1e9))
  t:assert_eq(math.type(st.mtime_ns), "float")
end)

test("lab:barrier meets coroutines whose guest processes run at the same time", function(t)
  local order, stamps = {}, {}
  local function party(id, secs)
    return coroutine.create(function()
      local p = a:run_async("cut -d' ' -f1 /proc/uptime; sleep " .. secs .. "; cut -d' ' -f1 /proc/uptime")
      coroutine.yield() -- let the other party start its process before this one waits
      local out = p:wait(60).stdout
      local s, e = out:match("([%d.]+)%s+([%d.]+)")
      stamps[id] = { tonumber(s), tonumber(e) }
      order[#order + 1] = id .. " done"
      local ok = provium:barrier("phase", 2, 60)
      order[#order + 1] = id .. " through " .. tostring(ok)
    end)
  end
  local cos = { party("a", 1), party("b", 2) }
  while coroutine.status(cos[1]) ~= "dead" or coroutine.status(cos[2]) ~= "dead" do
    for _, co in ipairs(cos) do
      if coroutine.status(co) ~= "dead" then assert(coroutine.resume(co)) end
    end
  end
  t:assert_eq(order, { "a done", "b done", "b through true", "a through true" })
  -- both processes ran in the guest at once: b started before a ended
  t:assert(stamps.b[1] < stamps.a[2], "b started (" .. stamps.b[1] .. ") before a ended (" .. stamps.a[2] .. ")")
end)
`;

beforeAll(async () => {
  ({ dir, events } = await runSuite({ 'shapes.test.lua': SHAPES }));
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const result = (name: string) => testOutcome(events, name);

it.each([
  'graph-only members: names that are no VM join the bridge\'s graph',
  'partition_all is a flag; restore_all clears only it; reset keeps attachments and isolation',
  'nic:counters() has errors: the guest\'s receive plus transmit errors',
  'clock:get_ns/set_ns and stat().mtime_ns',
  'lab:barrier meets coroutines whose guest processes run at the same time',
])('%s', (name) => {
  const e = result(name);
  expect(e?.event, JSON.stringify(e)).toBe('test_passed');
});
