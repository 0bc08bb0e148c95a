// Shard balance benchmark: a suite of 13 files whose tests wait between 0.2 s
// and 4 s (a shell `sleep`: no CPU, so the neighbours' load moves it little),
// split in three. Each shard runs alone, one after the other, with -j1, as if
// on three CI machines of one thread each; the time of a split is its longest
// shard's. The peer is the split by file count that vitest --shard and
// nextest --partition count: make (here: --shard without --durations); ours
// is --shard with the times a first, unsharded run recorded
// (--save-durations). Prints each shard's time, the ratio of the two splits'
// longest shards and how far ours is from the ideal (the unsharded run / 3).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const cli = path.resolve(import.meta.dirname, '../../runner/bin/provium.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const SHARDS = 3;
// seconds each file waits, in file-name order (an order no split was tuned to)
const WAITS = [0.5, 4, 0.2, 1, 0.5, 3, 0.2, 0.5, 1.5, 0.2, 2, 0.5, 0.2];

const dir = mkdtempSync(path.join(tmpdir(), 'provium-bench-shard-'));
mkdirSync(path.join(dir, 'tests'));
writeFileSync(path.join(dir, 'provium.toml'), '[provium]\nroots = ["tests"]\n');
WAITS.forEach((s, i) => {
  const name = `f${String(i + 1).padStart(2, '0')}.test.lua`;
  writeFileSync(path.join(dir, 'tests', name), `test("waits ${s}s", function(t) t:assert(os.execute("sleep ${s}")) end)\n`);
});
const env = { ...process.env, PROVIUM_CACHE_DIR: path.join(dir, 'cache') };

function time(args) {
  const start = performance.now();
  const r = spawnSync('node', [cli, 'test', '-q', '-j1', ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`provium test ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout.slice(-2000)}`);
  return (performance.now() - start) / 1000;
}

const shardTimes = (extra) => Array.from({ length: SHARDS }, (_, i) => time(['--shard', `${i + 1}/${SHARDS}`, ...extra]));
const fmt = (xs) => xs.map((x) => `${x.toFixed(2)}s`).join(' ');

try {
  console.log(`bench:shard: ${WAITS.length} files waiting ${WAITS.reduce((a, b) => a + b, 0).toFixed(1)} s in all, ${SHARDS} shards, -j1 each`);
  for (let round = 1; round <= RUNS; round++) {
    const full = time(['--save-durations', 'durations.json']);
    const byCount = shardTimes([]);
    const byTime = shardTimes(['--durations', 'durations.json']);
    const [worstCount, worstTime] = [Math.max(...byCount), Math.max(...byTime)];
    console.log(`round ${round}: unsharded ${full.toFixed(2)}s (ideal shard ${(full / SHARDS).toFixed(2)}s)`);
    console.log(`  by file count (peer):  ${fmt(byCount)}  longest ${worstCount.toFixed(2)}s`);
    console.log(`  by recorded times:     ${fmt(byTime)}  longest ${worstTime.toFixed(2)}s`);
    console.log(`  by count / by times: ${(worstCount / worstTime).toFixed(2)}x; by times / ideal: ${(worstTime / (full / SHARDS)).toFixed(2)}x`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
