/**
 * Scoping (the sheet's §16, D22), end to end on the real default guest: what
 * a test creates — VMs, bridges, sub-labs, guest processes, open files — ends
 * with the test and leaves the lab, while the file's own VM lives on; its NIC
 * on a test's bridge is parked and its address removed in the guest. A
 * failed test's artifacts are kept before its VMs end.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunEvent, TestFailed } from '@provium/types';
import { runSuite, testOutcome } from '../cli/helpers.js';

let dir: string;
let events: RunEvent[];

const SCOPES = `
local keep = provium:vm("keep", "default"):boot()
local seen = {}

test("a test makes a VM, a bridge, a sub-lab, a process and a file", function(t)
  local tmp = provium:vm("tmp", "default"):boot()
  local lan = provium:bridge("tlan")
  lan:attach({ keep, tmp })
  keep:run("ping -c 1 -W 5 tmp.tlan"):assert_ok()
  seen.tmp, seen.lan = tmp, lan
  seen.address = keep:run("ip -o -4 addr show | grep -v ' lo ' | awk '{print $4}'").stdout
  t:assert(seen.address:match("%d"), "keep has an address on tlan")
  seen.proc = keep:run_async("exec sleep 1000")
  seen.file = keep:open_file("/tmp/scoped", "w")
  seen.file:write("x")
  seen.sub = provium:lab("inner")
  t:assert_eq(keep:open_file_count(), 1)
end)

test("the next test finds them gone, and the file's VM still there", function(t)
  t:assert_eq(seen.tmp:state(), "shutdown")
  t:assert_eq(provium.tmp, nil)
  t:assert_eq(provium.tlan, nil)
  t:assert_eq(provium.inner, nil)
  t:assert_eq(provium:vm_names(), { "keep" })
  t:assert_eq(keep:open_file_count(), 0)
  t:assert_eq(seen.proc:status(), "signalled")
  t:assert_eq(keep:run("ps -o comm | grep -x sleep").exit_code, 1)
  t:assert_eq(keep:read_file("/tmp/scoped"), "x")
  -- keep's NIC on the gone bridge is parked: its address is gone from the guest
  t:assert_eq(keep:run("ip -o -4 addr show | grep -v ' lo ' | awk '{print $4}'").stdout, "")
  t:assert_contains(tostring(t:assert_raises(function() seen.lan:attach(keep) end)), "tlan")
  -- the names are free again; the new bridge gives keep a new NIC that works
  local tmp = provium:vm("tmp", "default"):boot()
  local lan = provium:bridge("tlan")
  lan:attach({ keep, tmp })
  tmp:run("ping -c 1 -W 5 keep.tlan"):assert_ok()
end)

test("a test cannot create a name the file scope has; it looks it up", function(t)
  local msg = tostring(t:assert_raises(function() provium:vm("keep", "default") end))
  t:assert_contains(msg, 'provium:vm("keep")')
  t:assert_eq(provium:vm("keep"), keep)
end)

test("a failing test", function(t)
  provium:vm("doomed", "default"):boot()
  t:fail("on purpose")
end)
`;

beforeAll(async () => {
  ({ dir, events } = await runSuite({ 'scopes.test.lua': SCOPES }));
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const result = (name: string) => testOutcome(events, name);

it.each([
  'a test makes a VM, a bridge, a sub-lab, a process and a file',
  "the next test finds them gone, and the file's VM still there",
  'a test cannot create a name the file scope has; it looks it up',
])('%s', (name) => {
  const e = result(name);
  expect(e?.event, JSON.stringify(e)).toBe('test_passed');
});

it('a failed test keeps the console log of the VM it made (collected before the VM ends), and the VM ends with the test', () => {
  const e = result('a failing test') as TestFailed;
  expect(e.event).toBe('test_failed');
  expect(e.artifacts?.['doomed console log']).toMatch(/doomed\.console\.log$/);
  const shut = events.filter((x) => x.event === 'vm_shutdown' && x.vm === 'doomed');
  expect(shut).toHaveLength(1);
  // ended with its test: before the file's end shut keep down
  const order = events.filter((x) => x.event === 'vm_shutdown').map((x) => (x as { vm: string }).vm);
  expect(order.indexOf('doomed')).toBeLessThan(order.lastIndexOf('keep'));
});
