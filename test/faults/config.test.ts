/**
 * Flags and provium.toml values at and beyond their bounds: each is refused
 * with the flag or key, the value and what to write instead, or bounded.
 */
import { describe, expect, it } from 'vitest';
import type { FileCompleted, RunEvent } from '@provium/types';
import { LspTestClient } from '../lsp/helpers/lsp-client.js';
import { project, provium, proviumWithEnv } from '../cli/helpers.js';

/** A file that takes a little while: it times out under a timeout that fires at once. */
const SLOW = 'test("waits", function(t) os.execute("sleep 0.3") end)\n';
const parse = (stdout: string) => stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
const statuses = (stdout: string) => parse(stdout).filter((e): e is FileCompleted => e.event === 'file_completed').map((e) => e.status);

describe('[provium] cache_max_size', () => {
  it.each([['-1'], ['0'], ['"0"'], ['1.5'], ['inf']])('%s is refused before the cache is touched', async (value) => {
    const r = await provium(project({ 'provium.toml': `[provium]\ncache_max_size = ${value}\n`, 'tests/a.test.lua': SLOW }), 'test');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/provium\.toml: \[provium\] cache_max_size = .+: expected a size above 0, .*"20G".*empty/);
  });
});

describe('timeouts', () => {
  it.each([[['--timeout', '600h']], [['--timeout-scale', '100']], [['--timeout', '24000h', '--timeout-scale', '100']]])('%j fit Node\'s timers: the file runs', async (args) => {
    const r = await provium(project({ 'tests/a.test.lua': SLOW }), 'test', '--json', ...args);
    expect(statuses(r.stdout)).toEqual(['passed']);
    expect(r.stderr).not.toContain('TimeoutOverflowWarning');
  });

  it('a file\'s own provium.timeout of 600h does not end it at once', async () => {
    const r = await provium(project({ 'tests/a.test.lua': `provium.timeout = "600h"\n${SLOW}` }), 'test', '--json');
    expect(statuses(r.stdout)).toEqual(['passed']);
  });

  it('--timeout-scale above 100 is refused, naming the flag and the value', async () => {
    const r = await provium(project({ 'tests/a.test.lua': SLOW }), 'test', '--timeout-scale', '1e9');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('provium: --timeout-scale: expected a number above 0 and at most 100, got "1e9"');
  });

  it.each([
    ['--timeout 0', { 'tests/a.test.lua': SLOW }, ['--timeout', '0']],
    ['timeout = 0', { 'provium.toml': '[provium]\ntimeout = 0\n', 'tests/a.test.lua': SLOW }, []],
    ['timeout = "0"', { 'provium.toml': '[provium]\ntimeout = "0"\n', 'tests/a.test.lua': SLOW }, []],
    ['timeout = "0s"', { 'provium.toml': '[provium]\ntimeout = "0s"\n', 'tests/a.test.lua': SLOW }, []],
    ['provium.timeout = 0', { 'tests/a.test.lua': `provium.timeout = 0\nassert(provium.timeout == 0)\n${SLOW}` }, []],
    ['a test\'s timeout = 0', { 'tests/a.test.lua': 'test("waits", { timeout = 0 }, function(t) os.execute("sleep 0.3") end)\n' }, []],
  ] as const)('%s means no timeout', async (_name, files, args) => {
    const r = await provium(project(files), 'test', '--json', ...args);
    expect(r.stderr).toBe('');
    expect(statuses(r.stdout)).toEqual(['passed']);
  });

  it('a bare number of seconds reads the same in provium.toml as on the command line', async () => {
    const r = await provium(project({ 'provium.toml': '[provium]\ntimeout = "0.1"\n', 'tests/a.test.lua': SLOW }), 'test', '--json');
    expect(statuses(r.stdout)).toEqual(['timed_out']);
  });
});

describe('-j', () => {
  it('starts no more worker threads than there are files, without warnings', async () => {
    // 12 files in flight at once were 12 abort listeners on one signal: Node warned of a leak past 10.
    const names = Array.from({ length: 12 }, (_, i) => i);
    const r = await provium(project(Object.fromEntries(names.map((i) => [`tests/f${i}.test.lua`, SLOW]))), 'test', '--json', '-j', '10000');
    const workers = parse(r.stdout).flatMap((e) => (e.event === 'file_started' ? [e.worker] : []));
    expect(workers.sort((a, b) => a - b)).toEqual(names);
    expect(r.stderr).toBe('');
  });

  it('starts no more than the free memory holds, and says so', async () => {
    // Each worker may take PROVIUM_WORKER_MAX_HEAP_MB: 10 TiB each, so memory holds one.
    const files = Object.fromEntries(['a', 'b', 'c'].map((n) => [`tests/${n}.test.lua`, SLOW]));
    const r = await proviumWithEnv(project(files), { PROVIUM_WORKER_MAX_HEAP_MB: String(10 * 1024 * 1024) }, 'test', '--json', '-j', '4');
    expect(parse(r.stdout).flatMap((e) => (e.event === 'file_started' ? [e.worker] : []))).toEqual([0, 0, 0]);
    expect(r.stderr).toMatch(/^provium: -j 4: running 1 worker thread: .* of memory is free and each thread may take up to 10485760 MiB \(PROVIUM_WORKER_MAX_HEAP_MB\)/);
  });
});

describe('[provium] roots = ["/"]', () => {
  const dir = project({ 'provium.toml': '[provium]\nroots = ["/"]\n', 'tests/a.test.lua': SLOW });

  it('provium test refuses it, naming the file, the key and the value', async () => {
    const r = await provium(dir, 'test');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`provium: ${dir}/provium.toml: [provium] roots: "/" is the filesystem root: point the roots at the directories that hold your tests, e.g. roots = ["tests"]`);
  });

  it('the language server reports it on provium.toml and scans nothing', async () => {
    const c = await LspTestClient.start(dir);
    try {
      const [d] = await c.diagnosticsFor(`file://${dir}/provium.toml`);
      expect(d.message).toBe('[provium] roots: "/" is the filesystem root: point the roots at the directories that hold your tests, e.g. roots = ["tests"] (the language server leaves it out)');
    } finally {
      await c.shutdown();
    }
  });
});
