// The compiled-chunk cache: a cached chunk is what runs, it behaves as the
// source (same messages and lines), and a damaged, stale or unwritable cache
// only costs a parse.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FileTask, TestEvent, WorkerMessage } from '@provium/types';
import { afterAll, expect, it } from 'vitest';
import { trimChunkCache } from '../../host/chunk-cache.js';
import { lauxlib, lua } from '../lua/api.js';
import { runLuaFile } from '../run-file.js';
import { chunkKey } from './chunk-cache.js';
import { displayPath } from './require.js';

const dir = mkdtempSync(path.join(tmpdir(), 'provium-chunks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cache = path.join(dir, 'cache');
const testFile = path.join(dir, 'a.test.lua');
const display = 'a.test.lua';

const SOURCE = `local helper = require("helper")
test("passes", function(t) t:assert_eq(helper.twice(2), 4) end)
test("fails", function(t)
  t:assert_eq(helper.twice(2), 5)
end)
`;
writeFileSync(path.join(dir, 'helper.lua'), 'return { twice = function(x) return 2 * x end }\n');

async function run(chunkCacheDir: string | null = cache) {
  const task: FileTask = { file: testFile, displayPath: display, roots: [dir], selection: { tags: [], noTags: [], includeSlow: false }, fileTimeoutMs: 60_000, timeoutScale: 1, workerIndex: 0, keepOnFailure: false, chunkCacheDir: chunkCacheDir ?? undefined };
  const events: TestEvent[] = [];
  const outcome = await runLuaFile(task, (m: WorkerMessage) => m.kind === 'events' && events.push(...m.events));
  const failed = events.find((e) => e.event === 'test_failed');
  if (outcome.status === 'error') throw new Error(JSON.stringify(outcome.error));
  return { outcome, tests: events.filter((e) => e.event !== 'test_started').map((e) => `${e.event} ${e.test}`), failure: failed?.event === 'test_failed' ? failed.error : undefined };
}

const entries = () => readdirSync(cache).filter((n) => n.endsWith('.luac')).sort();
const entryOf = (chunkName: string, source: string) => path.join(cache, `${chunkKey(chunkName, Buffer.from(source))}.luac`);

/** The dump of `source` compiled under `chunkName`, as the cache stores it. */
function compiled(source: string, chunkName: string): Buffer {
  const L = lauxlib.luaL_newstate();
  expect(lauxlib.luaL_loadbuffer(L, Buffer.from(source), null, chunkName)).toBe(lua.LUA_OK);
  const parts: Buffer[] = [];
  lua.lua_dump(L, (_L, b, size) => (parts.push(Buffer.from(b.slice(0, size))), 0), null, false);
  return Buffer.concat(parts);
}

it('caches the test file and the modules it requires, and a cached run reports the same as a parsed one', async () => {
  writeFileSync(testFile, SOURCE);
  const parsed = await run(null);
  expect(existsSync(cache)).toBe(false);
  const first = await run();
  expect(entries()).toEqual([path.basename(entryOf(`@${display}`, SOURCE)), path.basename(entryOf(`@${displayPath(path.join(dir, 'helper.lua'))}`, readFileSync(path.join(dir, 'helper.lua'), 'utf8')))].sort());
  const cached = await run();
  for (const r of [first, cached]) {
    expect(r.tests).toEqual(parsed.tests);
    expect(r.failure).toEqual(parsed.failure);
  }
  expect(parsed.tests).toEqual(['test_passed passes', 'test_failed fails']);
  expect(parsed.failure?.location).toEqual({ file: display, line: 4 });
  expect(parsed.failure?.traceback).toContain(`${display}:4:`);
});

it('runs what the cache holds for the file (the cache is read), keyed by the source', async () => {
  writeFileSync(testFile, SOURCE);
  writeFileSync(entryOf(`@${display}`, SOURCE), compiled('test("from the cache", function() end)', `@${display}`));
  expect((await run()).tests).toEqual(['test_passed from the cache']);
  // A changed file has another key: its own source runs, and is cached beside.
  const changed = SOURCE.replace('"passes"', '"still passes"');
  writeFileSync(testFile, changed);
  expect((await run()).tests).toEqual(['test_passed still passes', 'test_failed fails']);
  expect(existsSync(entryOf(`@${display}`, changed))).toBe(true);
});

it('parses again and rewrites a damaged entry; runs from the source when the cache cannot be written', async () => {
  writeFileSync(testFile, SOURCE);
  const entry = entryOf(`@${display}`, SOURCE);
  writeFileSync(entry, compiled(SOURCE, `@${display}`).subarray(0, 40));
  expect((await run()).tests).toEqual(['test_passed passes', 'test_failed fails']);
  expect(readFileSync(entry)).toEqual(compiled(SOURCE, `@${display}`));

  const blocker = path.join(dir, 'not-a-dir');
  writeFileSync(blocker, '');
  expect((await run(path.join(blocker, 'chunks'))).tests).toEqual(['test_passed passes', 'test_failed fails']);
});

it('trimming keeps the newest entries and removes partial writes of processes that are gone', () => {
  const trimDir = path.join(dir, 'trim');
  rmSync(trimDir, { recursive: true, force: true });
  mkdirSync(trimDir, { recursive: true });
  for (let i = 0; i < 8; i++) {
    const f = path.join(trimDir, `${String(i).padStart(40, '0')}.luac`);
    writeFileSync(f, 'x');
    utimesSync(f, 1_000_000 + i * 10, 1_000_000 + i * 10);
  }
  writeFileSync(path.join(trimDir, `x.luac.partial-999999999-1`), 'x'); // no such pid
  writeFileSync(path.join(trimDir, `y.luac.partial-${process.pid}-1`), 'x'); // ours: being written
  trimChunkCache(trimDir, 5, 3);
  expect(readdirSync(trimDir).sort()).toEqual([...[5, 6, 7].map((i) => `${String(i).padStart(40, '0')}.luac`), `y.luac.partial-${process.pid}-1`]);
  trimChunkCache(trimDir, 5, 3); // under the limit: nothing more goes
  expect(readdirSync(trimDir)).toHaveLength(4);
});
