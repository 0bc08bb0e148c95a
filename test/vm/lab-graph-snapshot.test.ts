/**
 * Lab snapshots keep a lab's whole network graph (issue 16's last shape
 * item), through the real CLI: a lab with bridges and no VM snapshots its
 * network; graph-only members, their isolation, pair and one-way partitions
 * and routes come back in a fresh lab and in place; the cut flag is written
 * as `fully_partitioned` (and an old lab.json's `cutAll` still restores);
 * a lab with a VM and a graph-only member keeps both. ONE default guest,
 * booted at top level; the network-only tests need none.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';
import { runSuite, testOutcome } from '../cli/helpers.js';

let dir: string;
let events: RunEvent[];

const LUA = `
local a = provium:vm("a", "default"):boot()

test("a lab with bridges and no VM snapshots its network; a fresh lab gets it back", function(t)
  local src = provium:lab("src")
  local lan, wan = src:bridge("lan"), src:bridge("wan")
  lan:attach({ "a", "b", "c" })
  lan:partition("a", "b")
  lan:partition({ from = "b", to = "c" })
  lan:isolate("c")
  lan:route(wan)
  wan:attach({ "p", "q", "r", "s" })
  wan:partition_all()
  src:snapshot("tests/network")
  lan:unpartition("a", "b")
  lan:unisolate("c")
  lan:detach("b")
  wan:restore_all()
  t:assert_eq({ lan:is_partitioned("a", "b"), lan:members(), wan:is_partitioned("p", "q") }, { false, { "a", "c" }, false })

  local fresh = provium:lab("fresh")
  fresh:restore("tests/network")
  t:assert_eq(fresh:bridge_names(), { "lan", "wan" })
  local l, w = fresh:bridge("lan"), fresh:bridge("wan")
  t:assert_eq(l:members(), { "a", "b", "c" })
  t:assert_eq({ l:is_partitioned("b", "a"), l:is_partitioned("b", "c"), l:is_isolated("c"), l:routes() }, { true, false, true, { "wan" } })
  t:assert_eq({ w:members(), w:is_partitioned("p", "s"), w:is_partitioned("any", "names") }, { { "p", "q", "r", "s" }, true, true })
  fresh:snapshot("tests/restored") -- its lab.json shows the one-way partition came back too
  w:restore_all()
  t:assert_eq(w:is_partitioned("p", "s"), false) -- the flag alone: no pair was recorded

  -- in place: the graph goes back to the snapshot's
  src:restore("tests/network")
  t:assert_eq({ lan:is_partitioned("a", "b"), lan:members(), lan:is_isolated("c"), wan:is_partitioned("p", "q") }, { true, { "a", "b", "c" }, true, true })
end)

test("a lab with neither VMs nor bridges refuses to snapshot", function(t)
  t:assert_contains(tostring(t:assert_raises(function() provium:lab("empty"):snapshot() end)), "no running VM and no bridge to snapshot")
end)

test("a lab.json written with cutAll restores the cut flag", function(t)
  local old = provium:lab("old")
  old:restore("tests/legacy")
  t:assert_eq({ old:bridge("lan"):is_partitioned("x", "y"), old:bridge("lan"):members() }, { true, {} })
end)

test("a lab with a VM and a graph-only member keeps both", function(t)
  local vlan = provium:bridge("vlan")
  vlan:attach({ a, "ghost" })
  vlan:partition(a, "ghost")
  vlan:isolate("ghost")
  a:write_file("/root/state", "kept")
  provium:snapshot("tests/with-vm")
  vlan:unpartition(a, "ghost")
  vlan:detach("ghost")
  a:write_file("/root/state", "changed")
  provium:restore("tests/with-vm")
  t:assert_eq({ vlan:members(), vlan:is_partitioned("ghost", a), vlan:is_isolated("ghost") }, { { "a", "ghost" }, true, true })
  t:assert_eq(a:read_file("/root/state"), "kept")
end)
`;

/** reset_between_tests in a file whose lab has bridges and no VM: each test starts from the file's network. */
const RESET = `
provium.reset_between_tests = true
local lan = provium:bridge("lan")
lan:attach({ "x", "y" })

test("reset: a test changes the network", function(t)
  lan:partition("x", "y")
  lan:attach({ "z" })
end)

test("reset: the next starts from the file's network", function(t)
  t:assert_eq({ lan:is_partitioned("x", "y"), lan:members() }, { false, { "x", "y" } })
end)
`;

/** A lab.json as Provium wrote it before the cut flag was named fully_partitioned: a bridge with no VM, cut. */
const LEGACY = {
  format: 1,
  vms: [],
  network: {
    version: 1,
    bridges: [{ id: 'lan', name: 'lan', subnet: '10.77.0.0/24', seed: 1, impairments: { partitions: [], isolated: [], latency: [], drop: [], cutAll: true, bandwidth: [] } }],
    vms: [],
    nics: [],
  },
};

interface JsonBridge {
  id: string;
  impairments: Record<string, unknown>;
  graph?: Record<string, unknown>;
}

const labJson = (snap: string) => JSON.parse(readFileSync(path.join(dir, 'tests', snap, 'lab.json'), 'utf8')) as { vms: { name: string }[]; network: { bridges: JsonBridge[]; nics: { vm: string }[] } };
const bridge = (snap: string, id: string) => labJson(snap).network.bridges.find((b) => b.id === id);

beforeAll(async () => {
  ({ dir, events } = await runSuite({ 'graph.test.lua': LUA, 'reset.test.lua': RESET, 'legacy/lab.json': JSON.stringify(LEGACY) }));
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each([
  'a lab with bridges and no VM snapshots its network; a fresh lab gets it back',
  'a lab with neither VMs nor bridges refuses to snapshot',
  'a lab.json written with cutAll restores the cut flag',
  'a lab with a VM and a graph-only member keeps both',
  'reset: a test changes the network',
  "reset: the next starts from the file's network",
])('%s', (name) => {
  const e = testOutcome(events, name);
  expect(e?.event, JSON.stringify(e)).toBe('test_passed');
});

describe('lab.json', () => {
  it('of a lab with no VM: no VMs, the bridges with their graph, ids relative to the lab', () => {
    expect(labJson('network').vms).toEqual([]);
    expect(bridge('network', 'lan')?.graph).toEqual({
      members: ['a', 'b', 'c'],
      isolated: ['c'],
      partitions: [['name:a', 'name:b']],
      directional_partitions: [['name:b', 'name:c']],
      routes: ['wan'],
    });
  });

  it('records partition_all() as fully_partitioned, with no pair enumerated and no cutAll', () => {
    const wan = bridge('network', 'wan')!;
    expect(wan.impairments).toMatchObject({ fully_partitioned: true, partitions: [] });
    expect(wan.impairments).not.toHaveProperty('cutAll');
    expect(wan.graph).toMatchObject({ members: ['p', 'q', 'r', 's'], partitions: [] });
    expect(bridge('network', 'lan')?.impairments).not.toHaveProperty('fully_partitioned');
  });

  it('a restored lab snapshots the same graph again (the one-way partition came back)', () => {
    expect(bridge('restored', 'lan')?.graph).toEqual(bridge('network', 'lan')?.graph);
  });

  it('with a VM: its snapshot and NIC beside the graph-only member, the pair naming both', () => {
    const index = labJson('with-vm');
    expect(index.vms.map((v) => v.name)).toEqual(['a']);
    expect(index.network.nics.map((n) => n.vm)).toEqual(['a']);
    expect(bridge('with-vm', 'vlan')?.graph).toMatchObject({ members: ['ghost'], isolated: ['ghost'], partitions: [['name:ghost', 'vm:a']] });
  });
});
