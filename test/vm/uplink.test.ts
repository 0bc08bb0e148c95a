/**
 * The uplink and snapshots of bridged VMs from Lua, end to end on the real
 * default guest. The seed's example: a fixture fetches a file through the
 * uplink (from an HTTP server this test runs on the host's 127.0.0.1) and
 * returns `vm:snapshot()` of a bridged VM; a test resumes it with the uplink
 * gone and its NIC unplugged, then attaches it again. A VM's snapshot
 * restored into a new VM keeps its interface and passes nothing until it is
 * attached. A lab snapshot keeps the uplink, and so does a lab restored in
 * place between tests.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FileCompleted, RunEvent, TestFailed } from '@provium/types';
import { readHeader } from '../../packages/qemu/src/snapshot-file.js';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
const BODY = `fetched through the uplink ${process.pid}`;
let project: string;
let cache: string;
let server: Server;
let events: RunEvent[];

// busybox wget's -T crashes this guest's busybox (Debian 1.35): timeout(1) bounds it instead.
const LIB = (url: string) => `
local URL = "${url}"
local function out(vm, cmd) return vm:run(cmd):assert_ok().stdout end
local function fetch(vm, s) return vm:run("timeout " .. (s or 20) .. " busybox wget -q -O - " .. URL) end
local function ifaces(vm) return out(vm, "ls /sys/class/net | grep -v '^lo$' | tr '\\\\n' ' '") end
local function carriers(vm) return out(vm, "for n in /sys/class/net/eth*; do cat $n/carrier; done | tr -d '\\\\n'") end
local function reach(from, to) return from:run("ping -c 1 -W 2 " .. to):ok() end
`;

const files = (url: string): Record<string, string> => ({
  'provium.toml': '[provium]\nroots = ["tests"]\n',
  // the seed's example: the uplink to install something (here: fetch a file), then a snapshot of the bridged VM
  'tests/fixtures/fetched.fixture.lua': `${LIB(url)}
local lan = provium:bridge("lan")
local a = provium:vm("a", "default"):boot()
local b = provium:vm("b", "default"):boot()
lan:attach({a, b})
assert(reach(a, "b.lan"))
lan:enable_uplink()
a:run("timeout 20 busybox wget -q -O /root/fetched " .. URL):assert_ok()
return a:snapshot()
`,
  'tests/resume.test.lua': `${LIB(url)}
test("the fixture resumes with the uplink gone and its NICs unplugged; attached again, it talks", function(t)
  local vm = provium:lab("side"):vm_fixture("fixtures/fetched") -- in a sub-lab: known to the network as side/a, named a
  t:assert_eq(out(vm, "cat /root/fetched"), "${BODY}")
  t:assert_eq(ifaces(vm), "eth0 eth1 ", "its lan NIC and its uplink NIC are there")
  t:assert_eq(carriers(vm), "00", "both unplugged")
  t:assert_eq(out(vm, "ip route | grep ^default || true"), "", "no default route")
  t:assert_eq(out(vm, "grep 10.0.2.3 /etc/resolv.conf || true"), "", "no uplink nameserver")
  t:assert(not fetch(vm, 5):ok(), "the host is out of reach")
  t:assert(not reach(vm, "b.lan"), "nothing passes")
  local lan = provium:bridge("lan")
  local d = provium:vm("d", "default"):boot()
  lan:attach({vm, d})
  t:assert_eq(ifaces(vm), "eth0 eth1 ", "the same NIC (slot and MAC) is back on a bridge of its name")
  t:assert(reach(vm, "d.lan") and reach(d, "a.lan"))
  t:assert_eq(fetch(d, 5):ok(), false)
  lan:enable_uplink()
  t:assert_eq(fetch(vm):assert_ok().stdout, "${BODY}", "its uplink NIC is connected again")
  t:assert_eq(fetch(d):assert_ok().stdout, "${BODY}")
end)
`,
  'tests/snapshot.test.lua': `${LIB(url)}
test("a bridged VM's snapshot: restored into a new VM it keeps its NIC, unplugged; attached, traffic passes", function(t)
  local lan = provium:bridge("lan", {})
  local a = provium:vm("a", "default")
  local b = provium:vm("b", "default")
  lan:attach({a, b})
  local x = provium:lab("side"):vm("x", "default") -- on no bridge, in a file that has one
  provium:boot()
  t:assert_eq(x:state(), "booted")
  t:assert(reach(a, "b.lan") and reach(b, "a.lan"))
  local snap = a:snapshot("a.snap")
  local c = provium:vm("c", "default"):restore(snap)
  t:assert_eq(ifaces(c), "eth0 ", "the guest still has its interface")
  t:assert_eq(carriers(c), "0")
  t:assert(not reach(c, "b.lan"), "nothing passes")
  -- a, whose snapshot it is, is on lan with that NIC's MAC: c gets a NIC of its own there
  lan:attach(c)
  t:assert_eq(ifaces(c), "eth0 eth1 ")
  t:assert_eq(out(c, "ip -4 -o addr show dev eth0"), "", "the unplugged NIC's address is gone")
  t:assert(reach(c, "b.lan") and reach(b, "c.lan") and reach(a, "c.lan"))
  -- a restored in place keeps its bridge
  a:restore(snap)
  t:assert(reach(a, "b.lan") and reach(b, "a.lan"))
end)
`,
  // a lab restored in place (reset_between_tests) gets its bridges' uplink back, either way
  'tests/reset.test.lua': `${LIB(url)}
provium.reset_between_tests = true
local lan = provium:bridge("lan", {})
local wan = provium:bridge("wan", {})
local a = provium:vm("a", "default")
local c = provium:vm("c", "default")
lan:attach(a)
wan:attach(c)
lan:enable_uplink()
provium:boot()

test("the uplink changes in a test", function(t)
  lan:disable_uplink()
  wan:enable_uplink()
  t:assert(not fetch(a, 5):ok())
  t:assert_eq(fetch(c):assert_ok().stdout, "${BODY}")
end)

test("the next test has the lab's uplink as it was", function(t)
  t:assert_eq(fetch(a):assert_ok().stdout, "${BODY}")
  t:assert(not fetch(c, 5):ok())
  t:assert_eq(out(c, "ip route | grep ^default || true"), "")
end)
`,
  'tests/uplink.test.lua': `${LIB(url)}
local lan = provium:bridge("lan", {})
local wan = provium:bridge("wan", {})
local a = provium:vm("a", "default")
local c = provium:vm("c", "default")
lan:attach(a)
wan:attach(c)
provium:boot()

test("enable_uplink / disable_uplink on running VMs; the other bridge stays isolated", function(t)
  t:assert(not fetch(a, 5):ok(), "off by default")
  lan:enable_uplink()
  t:assert_eq(fetch(a):assert_ok().stdout, "${BODY}")
  t:assert_contains(out(a, "ip route"), "default via 10.0.2.2")
  t:assert_contains(out(a, "cat /etc/resolv.conf"), "nameserver 10.0.2.3")
  t:assert_eq(out(c, "ip route | grep ^default || true"), "")
  t:assert(not reach(c, "10.0.2.2"))
  lan:disable_uplink()
  t:assert(not fetch(a, 5):ok(), "off again")
  t:assert_eq(out(a, "ip route | grep ^default || true"), "")
  t:assert_eq(ifaces(a), "eth0 ")
end)

test("a lab snapshot keeps the uplink", function(t)
  lan:enable_uplink()
  provium:snapshot("labsnap")
  local copy = provium:lab("copy")
  copy:restore("labsnap")
  t:assert_eq(fetch(copy.a):assert_ok().stdout, "${BODY}")
  t:assert_eq(out(copy.c, "ip route | grep ^default || true"), "")
  t:assert(not fetch(copy.c, 5):ok())
end)
`,
});

const fileDone = (file: string) => events.find((e): e is FileCompleted => e.event === 'file_completed' && e.file.endsWith(file));
const failures = () => events.filter((e): e is TestFailed => e.event === 'test_failed').map((e) => `${e.file} ${e.test}: ${e.error.message}`);

beforeAll(async () => {
  server = createServer((_req, res) => res.end(BODY));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://10.0.2.2:${(server.address() as AddressInfo).port}/file`;
  project = mkdtempSync(path.join(tmpdir(), 'provium-uplink-'));
  cache = mkdtempSync(path.join(tmpdir(), 'provium-uplink-cache-'));
  for (const [rel, text] of Object.entries(files(url))) {
    mkdirSync(path.dirname(path.join(project, rel)), { recursive: true });
    writeFileSync(path.join(project, rel), text);
  }
  const env = { PROVIUM_CACHE_DIR: cache };
  const build = await execa('node', [CLI, 'fixture', 'build', '--timeout-scale', '3'], { cwd: project, reject: false, env });
  if (build.exitCode !== 0) throw new Error(`provium fixture build failed:\n${build.stdout}\n${build.stderr}`);
  const r = await execa('node', [CLI, 'test', '-j2', '--json', '--timeout-scale', '3', 'tests'], { cwd: project, reject: false, env });
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
}, 900_000);

afterAll(() => {
  server?.close();
  if (project) rmSync(project, { recursive: true, force: true });
  if (cache) rmSync(cache, { recursive: true, force: true });
});

it('every test passes', () => {
  expect(failures()).toEqual([]);
  for (const f of ['reset.test.lua', 'resume.test.lua', 'snapshot.test.lua', 'uplink.test.lua']) expect(fileDone(f)?.status).toBe('passed');
  expect(events.filter((e) => e.event === 'test_passed')).toHaveLength(6);
  expect(events.filter((e) => e.event === 'fixture_cache_hit').length).toBeGreaterThan(0); // resumed, not built in the run
});

it('a VM snapshot records its NIC devices; lab.json records the uplink', () => {
  const nics = readHeader(path.join(project, 'a.snap')).vm.nics as { slot: number; mac: string; bridge: string }[];
  expect(nics).toEqual([{ slot: 0x10, mac: expect.stringMatching(/^02(:[0-9a-f]{2}){5}$/), bridge: 'lan' }]);
  const index = JSON.parse(readFileSync(path.join(project, 'labsnap', 'lab.json'), 'utf8')) as { network: { bridges: { name: string; uplink?: boolean }[] } };
  expect(index.network.bridges.map((b) => [b.name, b.uplink ?? false]).sort()).toEqual([['lan', true], ['wan', false]]);
});
