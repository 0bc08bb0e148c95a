import { describe, expect, it } from 'vitest';
import { partition, type ShardFile } from './partition.js';

const file = (key: string, cost = 1, fixtures: string[] = []): ShardFile => ({ key, cost, fixtures });
const keys = (shards: ShardFile[][]) => shards.map((s) => s.map((f) => f.key));
const load = (shard: ShardFile[], fixtureCost: Map<string, number>) =>
  shard.reduce((n, f) => n + f.cost, 0) + [...new Set(shard.flatMap((f) => f.fixtures))].reduce((n, x) => n + (fixtureCost.get(x) ?? 0), 0);
const longest = (shards: ShardFile[][], fixtureCost = new Map<string, number>()) => Math.max(...shards.map((s) => load(s, fixtureCost)));

/** A deterministic pseudo-random sequence (no Math.random: the same cases every run). */
function lcg(seed: number) {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('partition', () => {
  it('without times is a round-robin over the files sorted by key', () => {
    const files = ['tests/c.test.lua', 'tests/a.test.lua', 'tests/sub/e.test.lua', 'tests/b.test.lua', 'tests/d.test.lua'].map((k) => file(k));
    expect(keys(partition(files, 2))).toEqual([
      ['tests/a.test.lua', 'tests/c.test.lua', 'tests/sub/e.test.lua'],
      ['tests/b.test.lua', 'tests/d.test.lua'],
    ]);
  });

  it('does not depend on the order the files come in', () => {
    const next = lcg(7);
    const files = Array.from({ length: 40 }, (_, i) => file(`t/${String(i).padStart(2, '0')}.test.lua`, Math.floor(next() * 1000), next() < 0.3 ? ['fx/' + (i % 3)] : []));
    const fixtureCost = new Map([['fx/0', 900], ['fx/1', 50], ['fx/2', 3000]]);
    const once = keys(partition(files, 4, fixtureCost));
    for (let round = 0; round < 5; round++) {
      const shuffled = [...files].sort(() => next() - 0.5);
      expect(keys(partition(shuffled, 4, fixtureCost))).toEqual(once);
    }
  });

  it('puts every file in exactly one shard, for any shard count', () => {
    const next = lcg(11);
    for (const n of [1, 2, 3, 5, 8, 13, 50]) {
      const files = Array.from({ length: 17 }, (_, i) => file(`f${i}`, 1 + Math.floor(next() * 100), next() < 0.5 ? [`x${i % 4}`] : []));
      const shards = partition(files, n, new Map([['x0', 40], ['x1', 400], ['x2', 4], ['x3', 0]]));
      expect(shards).toHaveLength(n);
      expect(shards.flat().map((f) => f.key).sort()).toEqual(files.map((f) => f.key).sort());
    }
  });

  it('with more shards than files leaves the last shards empty', () => {
    expect(keys(partition([file('a'), file('b')], 4))).toEqual([['a'], ['b'], [], []]);
  });

  it('balances by time, longest first', () => {
    // 8+3 / 7+4 / 6+5: 11 each, where the round-robin by key gives 8+5 / 7+4 / 6+3 (13)
    const files = [file('a', 8), file('b', 7), file('c', 6), file('d', 5), file('e', 4), file('f', 3)];
    const shards = partition(files, 3);
    expect(keys(shards)).toEqual([['a', 'f'], ['b', 'e'], ['c', 'd']]);
    expect(longest(shards)).toBe(11);
  });

  it('one long file gets a shard to itself', () => {
    const shards = partition([file('vm', 100), ...['a', 'b', 'c', 'd'].map((k) => file(k, 10))], 2);
    expect(keys(shards)).toEqual([['vm'], ['a', 'b', 'c', 'd']]);
  });

  it("keeps a fixture's users together when that shortens the longest shard", () => {
    // The fixture's build (100) is paid once per shard that holds a user of it.
    const fixtureCost = new Map([['base', 100]]);
    const files = [...['vm1', 'vm2', 'vm3'].map((k) => file(k, 10, ['base'])), ...['a', 'b', 'c', 'd', 'e', 'f'].map((k) => file(k, 10))];
    const shards = partition(files, 2, fixtureCost);
    // Together: 100 + 3*10 = 130 against 60; apart, each shard would pay the build: 150 at best.
    expect(keys(shards)).toEqual([['vm1', 'vm2', 'vm3'], ['a', 'b', 'c', 'd', 'e', 'f']]);
    expect(longest(shards, fixtureCost)).toBe(130);
  });

  it("splits a fixture's users when one shard could not hold them all in time", () => {
    const fixtureCost = new Map([['base', 10]]);
    const files = ['v1', 'v2', 'v3', 'v4', 'v5', 'v6'].map((k) => file(k, 100, ['base']));
    const shards = partition(files, 3, fixtureCost);
    expect(shards.map((s) => s.length)).toEqual([2, 2, 2]);
    expect(longest(shards, fixtureCost)).toBe(210);
  });

  it('charges a fixture that resumes another for both builds', () => {
    // web resumes base: a user of web needs both; a user of base alone only base
    const fixtureCost = new Map([['base', 50], ['web', 50]]);
    const files = [file('w1', 10, ['base', 'web']), file('w2', 10, ['base', 'web']), file('b1', 10, ['base']), file('p1', 60), file('p2', 60)];
    const shards = partition(files, 2, fixtureCost);
    expect(keys(shards)).toEqual([['b1', 'w1', 'w2'], ['p1', 'p2']]);
    expect(longest(shards, fixtureCost)).toBe(130);
  });
});
