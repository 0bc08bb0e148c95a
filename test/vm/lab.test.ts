/**
 * Labs and bridges from Lua, end to end on the real default guest: the
 * seed's cluster fixture, copies restored in two files at once, impairments
 * seen from inside the guests, lab snapshots that carry the network.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FileCompleted, RunEvent, TestFailed } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
/** Where the two copies write when their pings start and end (ns since the epoch). */
const STAMPS = mkdtempSync(path.join(tmpdir(), 'provium-lab-stamps-'));
let project: string;
let cache: string;
let events: RunEvent[];

const FILES: Record<string, string> = {
  'provium.toml': '[provium]\nroots = ["tests"]\n',
  // the seed's second example, attach after boot (hot-plugged NICs)
  'tests/fixtures/cluster.fixture.lua': `
provium:bridge("lan")
local a = provium:vm("a", "default"):boot()
local b = provium:vm("b", "default"):boot()
provium.lan:attach({a, b})
return provium:snapshot()
`,
  // a partition set before the snapshot must hold after the restore
  'tests/fixtures/split.fixture.lua': `
local cluster = provium:lab_fixture("fixtures/cluster")
cluster.lan:partition(cluster.a, cluster.b)
return cluster:snapshot()
`,
  // two copies of one lab, one per file, at the same time: each sees only its own traffic.
  // -j2 deals the files in path order, two to a lane: copy1 and impair to one, second/copy2 and
  // split to the other, so the copies start together; each then waits for the other (meet) and
  // writes its start and end times.
  'tests/helpers/meet.lua': `
local M = {}
local function stamp(name)
  assert(os.execute("date +%s%N > '${STAMPS}/" .. name .. ".tmp' && mv '${STAMPS}/" .. name .. ".tmp' '${STAMPS}/" .. name .. "'"))
end
function M.start(self, other)
  stamp(self .. ".start")
  assert(os.execute("until [ -e '${STAMPS}/" .. other .. ".start' ]; do sleep 0.05; done"))
end
function M.finish(self) stamp(self .. ".end") end
return M
`,
  // two tests resume the fixture one after the other: each gets a fresh copy on fresh switches
  'tests/copy1.test.lua': `
local meet = require("helpers.meet")
for i = 1, 2 do
  test("copy 1." .. i, { timeout = "60s" }, function(t)
    local c = provium:lab_fixture("fixtures/cluster")
    if i == 1 then meet.start("copy1", "copy2") end
    c.a:run("ping -c 3 -i 0.2 b.lan"):assert_ok()
    local n = c.b:nic("lan"):counters()
    if i == 1 then meet.finish("copy1") end
    -- 3 echo requests plus the restore's own frames (QEMU announces each NIC after a migration); never copy 2's 25
    t:assert(n.rx_packets >= 3 and n.rx_packets < 20, "b received only this copy's pings: " .. n.rx_packets)
  end)
end
`,
  'tests/second/copy2.test.lua': `
local meet = require("helpers.meet")
test("copy 2", { timeout = "60s" }, function(t)
  local c = provium:lab_fixture("fixtures/cluster")
  meet.start("copy2", "copy1")
  c.a:run("ping -c 25 -i 0.2 b.lan"):assert_ok()
  local n = c.b:nic("lan"):counters()
  meet.finish("copy2")
  t:assert(n.rx_packets >= 25 and n.rx_packets < 42, "b received only this copy's pings: " .. n.rx_packets)
end)
`,
  'tests/split.test.lua': `
test("a partition set before the snapshot holds after the restore", function(t)
  local c = provium:lab_fixture("fixtures/split")
  t:assert(not c.a:run("ping -c 1 -W 1 b.lan"):ok(), "a cannot reach b")
  c.lan:unpartition(c.a, c.b)
  c.a:run("ping -c 1 -W 2 b.lan"):assert_ok()
end)
`,
  'tests/impair.test.lua': `
provium.reset_between_tests = true
local lan = provium:bridge("lan", {})
local wan = provium:bridge("wan", {})
local a = provium:vm("a", "default")
local b = provium:vm("b", "default")
lan:attach({a, b})
wan:attach(a)
provium:boot()
local function err(fn) return tostring(select(2, pcall(fn))) end
local function reach(from, to) return from:run("ping -c 1 -W 1 " .. to):ok() end

test("members answer by name on each bridge; nothing leaves the lab", function(t)
  t:assert(reach(a, "b.lan"))
  t:assert(reach(b, "a.lan"))
  t:assert_eq(#a:run("ip -4 -o addr show"):assert_ok().stdout:gsub("[^\\n]", ""), 3, "lo, lan and wan")
  t:assert_eq(a:run("ip route | grep ^default || true").stdout, "", "no default route")
  t:assert(not a:run("ping -c 1 -W 1 10.0.2.2"):ok())
  t:assert_eq(provium.lan, lan)
  t:assert_eq(provium:bridge("lan"), lan)
  t:assert_contains(err(function() provium:vm("lan", "default") end), 'already has a bridge named "lan"')
  t:assert_contains(err(function() b:nic("wan") end), 'no NIC on bridge "wan"')
end)

test("one-way and two-way partitions, then partition_all / restore_all", function(t)
  t:assert_eq({ lan:name(), lan:members(), lan:is_partitioned("a", b) }, { "lan", { "a", "b" }, false })
  lan:partition("a", "b") -- VMs by name, as the original takes them
  t:assert_eq({ lan:is_partitioned(a, "b"), lan:is_partitioned(b, a) }, { true, true })
  lan:unpartition(a, b)
  t:assert_eq(lan:is_partitioned(a, b), false)
  lan:partition("a", "nobody") -- no VM of that name: graph state only (D11)
  t:assert_eq({ lan:is_partitioned(a, "nobody"), lan:is_partitioned(a, b) }, { true, false })
  lan:unpartition("a", "nobody")
  lan:partition({ from = a, to = b })
  t:assert_eq(lan:is_partitioned(a, b), false) -- one way only
  t:assert(not reach(a, "b.lan"), "a -> b cut")
  -- b's echo requests reach a, a's replies to b are cut
  t:assert(not reach(b, "a.lan"), "b gets no reply")
  lan:unpartition({ from = a, to = b })
  t:assert(reach(a, "b.lan"))
  lan:partition_all()
  t:assert(not reach(b, "a.lan"))
  lan:restore_all()
  t:assert(reach(b, "a.lan"))
end)

test("the previous test's impairments are gone (reset_between_tests); latency shows in ping", function(t)
  t:assert(reach(a, "b.lan"))
  lan:add_latency(100)
  local rtt = tonumber(a:run("ping -c 1 -W 3 b.lan"):assert_ok().stdout:match("time=([%d%.]+)"))
  t:assert(rtt >= 200, "RTT " .. tostring(rtt) .. " ms with 100 ms each way")
  t:assert_eq(lan:latency_ms(), 100)
  lan:reset()
  t:assert_eq({ lan:latency_ms(), lan:drop_rate_pct() }, { 0, 0 })
  lan:drop_rate(100) -- percent, as the original
  t:assert_eq(lan:drop_rate_pct(), 100)
  t:assert(not reach(a, "b.lan"), "every frame dropped")
  t:assert_contains(tostring(t:assert_raises(function() lan:drop_rate(-1) end)), "percentage")
end)

test("isolate, detach, counters", function(t)
  lan:isolate("b")
  t:assert_eq(lan:is_isolated(b), true)
  t:assert(not reach(a, "b.lan"))
  lan:unisolate(b)
  t:assert_eq(lan:is_isolated("b"), false)
  t:assert_eq({ lan:nic("a"):vm_name(), lan:nic(a):bridge() }, { "a", "lan" })
  t:assert(reach(a, "b.lan"))
  local before = a:nic("lan"):counters()
  a:run("ping -c 3 -i 0.2 b.lan"):assert_ok()
  local after = a:nic("lan"):counters()
  t:assert(after.tx_packets - before.tx_packets >= 3)
  t:assert(after.rx_bytes > before.rx_bytes)
  -- a is on lan and wan: eth0 is lan, eth1 wan (name order)
  local nic = a:nic("eth0")
  t:assert_eq({ nic:bridge(), a:nic("ens1"):bridge() }, { "lan", "wan" })
  t:assert_contains(err(function() a:nic("eth2") end), "eth<N>")
  nic:disconnect()
  t:assert(not reach(a, "b.lan"), "cable pulled")
  nic:reconnect()
  t:assert(reach(a, "b.lan"), "cable back")
  lan:route("wan")
  lan:route({ wan, "dmz" })
  t:assert_eq(lan:routes(), { "dmz", "wan" })
  lan:detach(b)
  t:assert(not reach(a, "b.lan"))
end)

test("sub-labs, include, remove, members", function(t)
  local sub = provium:lab("side")
  t:assert_eq(provium.side, sub)
  sub:include(a)
  t:assert_eq(#sub:members(), 1)
  sub:remove(a)
  t:assert_eq(#sub:members(), 0)
  t:assert_eq(a:state(), "booted", "remove leaves the VM running")
end)
`,
};

const of = <E extends RunEvent['event']>(evs: RunEvent[], name: E) => evs.filter((e): e is Extract<RunEvent, { event: E }> => e.event === name);
const fileDone = (file: string) => events.find((e): e is FileCompleted => e.event === 'file_completed' && e.file.endsWith(file));
const failures = () => events.filter((e): e is TestFailed => e.event === 'test_failed').map((e) => `${e.file} ${e.test}: ${e.error.message}`);

beforeAll(async () => {
  project = mkdtempSync(path.join(tmpdir(), 'provium-lab-'));
  cache = mkdtempSync(path.join(tmpdir(), 'provium-lab-cache-'));
  for (const [rel, text] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(project, rel)), { recursive: true });
    writeFileSync(path.join(project, rel), text);
  }
  // Build the fixtures first, so the two copies run at the same time.
  const build = await execa('node', [CLI, 'fixture', 'build', '--timeout-scale', '3'], { cwd: project, reject: false, env: { PROVIUM_CACHE_DIR: cache } });
  if (build.exitCode !== 0) throw new Error(`provium fixture build failed:\n${build.stdout}\n${build.stderr}`);
  const r = await execa('node', [CLI, 'test', '-j2', '--json', '--timeout-scale', '3', 'tests'], { cwd: project, reject: false, env: { PROVIUM_CACHE_DIR: cache } });
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
}, 900_000);

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
  rmSync(STAMPS, { recursive: true, force: true });
});

it('every lab test passes', () => {
  expect(failures()).toEqual([]);
  for (const f of ['copy1.test.lua', 'copy2.test.lua', 'split.test.lua', 'impair.test.lua']) expect(fileDone(f)?.status).toBe('passed');
});

it('the two copies ran at the same time: each began before the other ended', () => {
  const at = (name: string) => BigInt(readFileSync(path.join(STAMPS, name), 'utf8').trim());
  const [c1, c2] = ['copy1', 'copy2'].map((f) => ({ start: at(`${f}.start`), end: at(`${f}.end`) }));
  expect(c1.start < c2.end && c2.start < c1.end, JSON.stringify({ c1, c2 }, (_, v) => String(v))).toBe(true);
});

it('the run resumed the cached lab fixtures instead of building them', () => {
  expect(of(events, 'fixture_build_started')).toEqual([]);
  // one hit per fixture and run: the second file to ask shares the first one's lookup
  expect(of(events, 'fixture_cache_hit').map((e) => e.fixture).sort()).toEqual(['fixtures/cluster', 'fixtures/split']);
});
