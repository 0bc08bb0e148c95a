/**
 * Packet capture and bandwidth limits (the sheet's §7–§9), end to end on the
 * real default guest: two VMs on one bridge, booted once at file scope. The
 * Lua test writes what a capture streamed to a .pcap file and reads it back
 * with tcpdump (`tcpdump -r FILE -nn`): the ping and the TCP connection
 * between the VMs are in it. A failing test keeps its open capture among its
 * artifacts. Under a bandwidth limit a transfer of N bytes takes at least
 * N*8/bps: a lower bound that checks the limit holds, not a speed threshold;
 * without a limit no time is asserted at all.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunEvent, TestFailed } from '@provium/types';
import { runSuite, testOutcome } from '../cli/helpers.js';

let dir: string;
let events: RunEvent[];
let stderr: string;

const N = 256 * 1024;
const BPS = 1_000_000;

const LUA = `
local lan = provium:bridge("lan")
local a = provium:vm("a", "default")
local b = provium:vm("b", "default")
lan:attach({ a, b })
provium:boot()

local function host(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end
local function ip(vm) return (vm:run("ip -o -4 addr show | grep -v ' lo ' | awk '{print $4}' | cut -d/ -f1"):assert_ok().stdout:gsub("%s", "")) end
local A, B = ip(a), ip(b)
b:run("mkdir -p /tmp/www && head -c ${N} /dev/urandom > /tmp/www/blob && busybox httpd -p 8080 -h /tmp/www"):assert_ok()
local function fetch() return a:run("timeout 120 busybox wget -q -O /tmp/blob http://b.lan:8080/blob && stat -c %s /tmp/blob") end
local function now() return tonumber((host("date +%s.%N"))) end

test("a bridge capture is a pcap stream: tcpdump reads the ping and the TCP connection between the VMs", function(t)
  local cap = lan:capture()
  local chunks = { cap:next() }
  t:assert_eq(chunks[1]:sub(1, 4), "\\xd4\\xc3\\xb2\\xa1", "the savefile's magic comes first")
  a:run("ping -c 2 -W 5 b.lan"):assert_ok()
  t:assert_eq(fetch():assert_ok().stdout, "${N}\\n")
  for _, c in ipairs(cap:drain(1)) do
    t:assert(#c <= 65536, "a chunk holds at most 64 KiB")
    chunks[#chunks + 1] = c
  end
  cap:close()
  t:assert(cap:eof())
  t:assert_eq(cap:next(), nil)
  local f = io.open("bridge.pcap", "wb")
  f:write(table.concat(chunks))
  f:close()
  local out, ok = host("tcpdump -r bridge.pcap -nn")
  t:assert(ok, out)
  t:assert_contains(out, A .. " > " .. B .. ": ICMP echo request")
  t:assert_contains(out, B .. " > " .. A .. ": ICMP echo reply")
  t:assert_contains(out, " > " .. B .. ".8080: Flags [S]")
  t:assert_contains(out, B .. ".8080 > " .. A)
end)

test("a NIC capture: frames() gives the NIC's frames parsed, with times", function(t)
  local start = os.time()
  local cap = lan:nic(a):capture()
  t:assert_eq(cap:read_until("\\xd4\\xc3\\xb2\\xa1"), "\\xd4\\xc3\\xb2\\xa1")
  a:run("ping -c 2 -W 5 b.lan"):assert_ok()
  local frames = cap:frames(1)
  local icmp, last = 0, 0
  for _, fr in ipairs(frames) do
    t:assert_eq(#fr.data, fr.len)
    t:assert(fr.time >= start - 1 and fr.time >= last, "times in order, from now")
    last = fr.time
    if fr.data:byte(13) == 8 and fr.data:byte(14) == 0 and fr.data:byte(24) == 1 then icmp = icmp + 1 end
  end
  t:assert_eq(icmp, 4, "two echo requests and two replies")
  t:assert_eq(cap:dropped(), 0)
end)

test("nic:capture() needs a booted VM; snapshots refuse while a capture is open", function(t)
  local side = provium:bridge("side")
  local c = provium:vm("c", "default")
  side:attach(c)
  local err = tostring(t:assert_raises(function() side:nic(c):capture() end))
  t:assert_contains(err, "booted")
  t:assert_contains(err, "boot it first")
  local cap = lan:capture()
  t:assert_contains(tostring(t:assert_raises(function() provium:snapshot("snap") end)), 'capture of bridge "lan" (opened at')
  cap:close()
  local ncap = lan:nic(a):capture()
  t:assert_eq(a:open_stream_count(), 1)
  t:assert_contains(tostring(t:assert_raises(function() a:snapshot() end)), 'on bridge "lan" (opened at')
  ncap:close()
  t:assert_eq(a:open_stream_count(), 0)
end)

test("a failing test keeps its open capture", function(t)
  lan:capture()
  a:run("ping -c 1 -W 5 b.lan"):assert_ok()
  t:fail("on purpose")
end)

test("a bandwidth limit holds: N bytes take at least N*8/bps; 0 clears it", function(t)
  lan:bandwidth_limit(${BPS})
  t:assert_eq(lan:bandwidth_bps(), ${BPS})
  local t0 = now()
  t:assert_eq(fetch():assert_ok().stdout, "${N}\\n")
  local took = now() - t0
  t:assert(took >= ${N} * 8 / ${BPS}, "took " .. took .. " s")
  lan:bandwidth_limit(0)
  t:assert_eq(lan:bandwidth_bps(), 0)
  -- one direction only: b to a (the download's data)
  lan:bandwidth_limit({ from = b, to = "a", bps = ${BPS} })
  t:assert_eq(lan:bandwidth_bps(), 0, "the getter is the whole-bridge value")
  t0 = now()
  t:assert_eq(fetch():assert_ok().stdout, "${N}\\n")
  took = now() - t0
  t:assert(took >= ${N} * 8 / ${BPS}, "took " .. took .. " s")
  lan:reset()
  t:assert_contains(tostring(t:assert_raises(function() lan:bandwidth_limit(-1) end)), "bits per second")
  -- no limit: the transfer just completes (no time is asserted)
  t:assert_eq(fetch():assert_ok().stdout, "${N}\\n")
end)
`;

beforeAll(async () => {
  ({ dir, events, stderr } = await runSuite({ 'capture.test.lua': LUA }));
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const result = (name: string) => testOutcome(events, name);

it.each([
  'a bridge capture is a pcap stream: tcpdump reads the ping and the TCP connection between the VMs',
  'a NIC capture: frames() gives the NIC\'s frames parsed, with times',
  'nic:capture() needs a booted VM; snapshots refuse while a capture is open',
  'a bandwidth limit holds: N bytes take at least N*8/bps; 0 clears it',
])('%s', (name) => {
  const e = result(name);
  expect(e?.event, `${JSON.stringify(e)}\n${stderr}`).toBe('test_passed');
});

it('a failing test keeps the pcap of its open capture among its artifacts; tcpdump reads the ping in it', () => {
  const e = result('a failing test keeps its open capture') as TestFailed;
  expect(e.event).toBe('test_failed');
  const file = e.artifacts?.['capture of bridge "lan"'];
  expect(file).toMatch(/capture-lan\.pcap$/);
  expect(existsSync(file!)).toBe(true);
  const out = execFileSync('tcpdump', ['-r', file!, '-nn'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(out).toMatch(/ICMP echo request/);
  expect(out).toMatch(/ICMP echo reply/);
});
