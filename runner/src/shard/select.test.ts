// --shard over real projects in temp dirs: discovery, the static fixture graph, recorded times.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../config/load.js';
import { scanFixtureGraph } from '../fixtures/graph.js';
import { discover } from '../list/discover.js';
import type { Durations } from './durations.js';
import { selectShard } from './select.js';

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

const TEST = 'test("t", function(t) end)\n';
const VM_TEST = (fixture: string) => `local vm = provium:vm_fixture("${fixture}")\ntest("t", function(t) vm:run("true") end)\n`;

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'provium-shard-'));
  temps.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

function found(dir: string) {
  const config: ResolvedConfig = { baseDir: dir, roots: [path.join(dir, 'tests')], cacheMaxSize: 1 << 30, timeout: 300, toml: {} };
  const d = discover([], config, dir);
  return { d, graph: scanFixtureGraph(d.roots, [...d.tests, ...d.fixtures].map((f) => f.path)) };
}

const rel = (dir: string, files: { path: string }[]) => files.map((f) => path.relative(dir, f.path).split(path.sep).join('/'));
const times = (files: Record<string, number>, fixtures: Record<string, number> = {}): Durations => ({ files: new Map(Object.entries(files)), fixtures: new Map(Object.entries(fixtures)) });

const SUITE = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => [`tests/${n}.test.lua`, TEST]));

describe('selectShard', () => {
  it('splits the same way wherever the project lies, and the shards share one fingerprint', () => {
    const one = project(SUITE);
    const two = project(SUITE);
    const a = found(one).d;
    const b = found(two).d;
    for (const index of [1, 2, 3]) {
      const x = selectShard(a, { index, count: 3 }, { baseDir: one });
      const y = selectShard(b, { index, count: 3 }, { baseDir: two });
      expect(rel(one, x.tests)).toEqual(rel(two, y.tests));
      expect(x.shard).toEqual(y.shard);
    }
    const shards = [1, 2, 3].map((index) => selectShard(a, { index, count: 3 }, { baseDir: one }));
    expect(shards.flatMap((s) => rel(one, s.tests)).sort()).toEqual(Object.keys(SUITE).sort());
    expect(new Set(shards.map((s) => s.shard.partition)).size).toBe(1);
    // other times: another split, another fingerprint
    const timed = selectShard(a, { index: 1, count: 3 }, { baseDir: one, durations: times({ 'tests/a.test.lua': 5000 }) });
    expect(timed.shard.partition).not.toBe(shards[0]!.shard.partition);
  });

  it('gives files without a recorded time the median, and ignores files it does not know', () => {
    const dir = project(SUITE);
    const { d } = found(dir);
    // a: 900; b, c: 100 and 200; the others (d..g) cost the median, 200; "gone" is not in the tree
    const durations = times({ 'tests/a.test.lua': 900, 'tests/b.test.lua': 100, 'tests/c.test.lua': 200, 'tests/gone.test.lua': 99999 });
    const shards = [1, 2].map((index) => rel(dir, selectShard(d, { index, count: 2 }, { baseDir: dir, durations }).tests));
    // longest first: a (900) → 1; c, d, e, f, g (200 each) → 2; b (100) → 1: 1000 each (the round-robin would give 1500 and 500)
    expect(shards[0]).toEqual(['tests/a.test.lua', 'tests/b.test.lua']);
    expect(shards[1]).toEqual(['tests/c.test.lua', 'tests/d.test.lua', 'tests/e.test.lua', 'tests/f.test.lua', 'tests/g.test.lua']);
  });

  it("prices a fixture's build (and the builds it resumes) once per shard", () => {
    const dir = project({
      ...SUITE,
      'tests/fixtures/base.fixture.lua': 'return provium:vm("b", "default"):boot():snapshot()\n',
      'tests/fixtures/web.fixture.lua': 'local vm = provium:vm_fixture("fixtures/base")\nreturn vm:snapshot()\n',
      'tests/vm1.test.lua': VM_TEST('fixtures/web'),
      'tests/vm2.test.lua': VM_TEST('fixtures/web'),
      'tests/vm3.test.lua': VM_TEST('fixtures/base'),
    });
    const { d, graph } = found(dir);
    const files = Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'vm1', 'vm2', 'vm3'].map((n) => [`tests/${n}.test.lua`, 1000]));
    const durations = times(files, { 'fixtures/base': 30000, 'fixtures/web': 20000 });
    const shards = [1, 2].map((index) => rel(dir, selectShard(d, { index, count: 2 }, { baseDir: dir, durations, graph }).tests));
    // the three VM files pay both builds once (53 s); split, each shard would pay at least the base's 30 s
    expect(shards[0]).toEqual(['tests/vm1.test.lua', 'tests/vm2.test.lua', 'tests/vm3.test.lua']);
    expect(shards[1]).toHaveLength(7);
    // without the graph the fixtures are unknown: the ten files split by time alone, five and five
    const blind = [1, 2].map((index) => selectShard(d, { index, count: 2 }, { baseDir: dir, durations }).tests.length);
    expect(blind).toEqual([5, 5]);
  });
});
