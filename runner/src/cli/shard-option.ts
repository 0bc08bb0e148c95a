/** `--shard K/N` and `--durations FILE` of `provium test` and `provium list`: the files of one shard. */
import type { ShardSpec } from '@provium/types';
import { UsageError } from '../errors.js';
import type { FixtureGraph } from '../fixtures/graph.js';
import type { Discovery } from '../list/discover.js';
import { readDurations } from '../shard/durations.js';
import { selectShard, type SelectedShard } from '../shard/select.js';

export interface ShardOptions {
  shard?: ShardSpec;
  durations: string[];
}

/** The shard's files, or undefined without --shard. `graph`: which fixtures the files resume (only read with --durations). */
export function shardFiles(found: Discovery, o: ShardOptions, ctx: { cwd: string; baseDir: string; graph?: FixtureGraph }): SelectedShard | undefined {
  if (!o.shard) {
    if (o.durations.length > 0) throw new UsageError('--durations balances shards by recorded times: it goes with --shard K/N');
    return undefined;
  }
  const durations = o.durations.length > 0 ? readDurations(o.durations, ctx) : undefined;
  return selectShard(found, o.shard, { baseDir: ctx.baseDir, durations, graph: ctx.graph });
}
