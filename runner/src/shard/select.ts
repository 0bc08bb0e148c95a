/**
 * `--shard K/N` applied to the discovered files: each file named by its path
 * relative to the project root, priced by the recorded times when
 * `--durations` gave some (a file without one costs the median of those that
 * have one; with none at all every file costs the same), and placed by
 * partition.ts. A fixture without a recorded build costs the median of the
 * recorded builds, or nothing when none was recorded.
 */
import { createHash } from 'node:crypto';
import type { RunShard, ShardSpec } from '@provium/types';
import type { FixtureGraph } from '../fixtures/graph.js';
import type { Discovery, TestFile } from '../list/discover.js';
import type { Durations } from './durations.js';
import { partition, type ShardFile } from './partition.js';
import { projectPath } from './project-path.js';

export interface ShardContext {
  /** provium.toml's directory, else the working directory. */
  baseDir: string;
  durations?: Durations;
  /** Which fixtures each test file resumes; only needed with durations (fixture builds are priced by them). */
  graph?: FixtureGraph;
}

export interface SelectedShard {
  /** The shard's files, in discovery order. */
  tests: TestFile[];
  shard: RunShard;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1]! + s[mid]!) / 2;
}

/** The fixtures `name` resumes, itself first, then those it resumes in turn. */
function fixtureClosure(graph: FixtureGraph, names: string[]): string[] {
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n) || !graph.fixtures.has(n)) return;
    seen.add(n);
    for (const r of graph.fixtures.get(n)!.resumes) visit(r.name);
  };
  names.forEach(visit);
  return [...seen].sort();
}

export function selectShard(found: Discovery, spec: ShardSpec, ctx: ShardContext): SelectedShard {
  const d = ctx.durations;
  const keys = found.tests.map((t) => projectPath(ctx.baseDir, t.path));
  const typical = d && median(keys.flatMap((k) => (d.files.has(k) ? [d.files.get(k)!] : [])));
  const files: ShardFile[] = found.tests.map((t, i) => ({
    key: keys[i]!,
    // At least 1 ms: a file that ran in no measurable time still costs its start.
    cost: typical === undefined ? 1 : Math.max(1, d!.files.get(keys[i]!) ?? typical),
    fixtures: d && ctx.graph ? fixtureClosure(ctx.graph, (ctx.graph.testUses.get(t.path) ?? []).map((r) => r.name)) : [],
  }));
  const fixtureCost = new Map<string, number>();
  if (d) {
    const typicalBuild = median([...d.fixtures.values()]) ?? 0;
    for (const x of new Set(files.flatMap((f) => f.fixtures))) fixtureCost.set(x, d.fixtures.get(x) ?? typicalBuild);
  }
  const mine = new Set(partition(files, spec.count, fixtureCost)[spec.index - 1]!.map((f) => f.key));
  // Everything the split depends on: shards of one split carry the same fingerprint (the merge checks it).
  const input = JSON.stringify([spec.count, [...files].sort((a, b) => (a.key < b.key ? -1 : 1)), [...fixtureCost].sort()]);
  const fingerprint = createHash('sha256').update(input).digest('hex').slice(0, 16);
  return { tests: found.tests.filter((_, i) => mine.has(keys[i]!)), shard: { ...spec, partition: fingerprint } };
}
