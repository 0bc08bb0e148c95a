/** The original Provium's flags on `provium test` (api-parity §18): the pool, selection by meta, coverage, compatibility switches, D26. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { FileCompleted, RunEvent } from '@provium/types';
import { CLI, events, project, provium } from './helpers.js';

const ran = (evs: RunEvent[]) => evs.filter((e) => e.event === 'test_started').map((e) => (e as { test: string }).test);
const completed = (evs: RunEvent[]) => evs.find((e): e is FileCompleted => e.event === 'file_completed')!;

describe('provium [flags] [paths] without the word test (D26)', () => {
  it('runs the tests, and a first word naming a command is that command', async () => {
    const dir = project({ 'tests/a.test.lua': 'test("a", function(t) end)\n', 'list/b.test.lua': 'test("b", function(t) end)\n' });
    const all = await provium(dir, '-q');
    expect(all.code).toBe(0);
    expect(all.lastLine).toBe('1 passed, 0 failed, 0 skipped'); // the roots: tests/
    const one = await provium(dir, 'list/b.test.lua', '-v');
    expect(one.stdout).toMatch(/^PASS list\/b\.test\.lua/m);
    const cmd = await provium(dir, 'list');
    expect(cmd.code).toBe(0);
    expect(cmd.stdout).toBe('tests/a.test.lua\n  a'); // `provium list`, not the directory list/
    const dotted = await provium(dir, './list');
    expect(dotted.stdout).toMatch(/^PASS list\/b\.test\.lua/m);
    expect((await provium(dir, '--bogus')).code).toBe(2);
  });
});

describe('--mem, --cpus and --cpu-overcommit size the pool', () => {
  // A claim takes resources from the pool without starting QEMU: a claim bigger than the pool fails with its numbers.
  const claim = (memory: string, cpus: number) => `provium:claim({ memory = "${memory}", cpus = ${cpus} })\ntest("x", function(t) end)\n`;

  it('--mem is the pool\'s memory', async () => {
    const dir = project({ 'tests/big.test.lua': claim('2G', 1), 'tests/fits.test.lua': claim('512M', 1) });
    const { events: evs } = await events(dir, '--mem', '1024m');
    const big = evs.find((e): e is FileCompleted => e.event === 'file_completed' && e.file === 'tests/big.test.lua')!;
    expect(big.status).toBe('error');
    expect(big.error?.message).toMatch(/needs 2\.0G memory and 1 CPU, more than the whole pool of 1\.0G memory and \d+ CPUs \(--mem, /);
    expect(evs.find((e): e is FileCompleted => e.event === 'file_completed' && e.file === 'tests/fits.test.lua')!.status).toBe('passed');
  });

  it('--cpus is the base the overcommit multiplies, rounded', async () => {
    const over = project({ 'tests/c.test.lua': claim('64M', 4) });
    const r = await events(over, '--cpus', '2', '--cpu-overcommit', '1.5');
    expect(completed(r.events).error?.message).toMatch(/needs 64M memory and 4 CPUs, more than the whole pool of .* and 3 CPUs \(80% of host RAM, --cpus 2 × --cpu-overcommit 1\.5\)/);
    const fits = project({ 'tests/c.test.lua': claim('64M', 3) });
    expect((await events(fits, '--cpus', '2', '--cpu-overcommit', '1.5')).code).toBe(0);
  });

  it('--cpu-overcommit is clamped to [0.5, 8] with a notice', async () => {
    const dir = project({ 'tests/c.test.lua': claim('64M', 9) });
    const r = await provium(dir, '--json', '--cpus', '1', '--cpu-overcommit', '100');
    expect(r.stderr).toContain('--cpu-overcommit 100 clamped to 8');
    expect(r.stdout).toMatch(/needs 64M memory and 9 CPUs, more than the whole pool of .* and 8 CPUs/);
    const quiet = await provium(dir, '--json', '--cpus', '1', '--cpu-overcommit', '8');
    expect(quiet.stderr).not.toContain('clamped');
  });

  it.each([
    [['--mem', 'lots'], /--mem: cannot parse "lots" as a size/],
    [['--mem', '18446744073709551616'], /--mem: the size "18446744073709551616" overflows 64 bits/],
    [['--mem', '20000000000G'], /overflows 64 bits/],
    [['--cpus', '0'], /--cpus: expected a whole number of at least 1, got "0"/],
    [['--cpu-overcommit', 'x'], /--cpu-overcommit: expected a number, got "x"/],
  ])('%j exits 2', async (args, message) => {
    const r = await provium(project({ 'tests/a.test.lua': 'test("a", function(t) end)\n' }), 'test', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe('--tag-meta and --no-tag-meta', () => {
  const FILE = `test("web", { spec = "RFC-9110", area = { "http", "tls" } }, function(t) end)
test("dns", { spec = "RFC-1035", area = "dns", priority = 1 }, function(t) end)
test("mail", { spec = "RFC-5321", area = "smtp" }, function(t) end)
test("bare", function(t) end)
`;
  const dir = project({ 'tests/a.test.lua': FILE });

  it('OR within a key, AND across keys, the negative form wins', async () => {
    expect(ran((await events(dir, '--tag-meta', 'area=tls', '--tag-meta', 'area=dns')).events)).toEqual(['web', 'dns']);
    expect(ran((await events(dir, '--tag-meta', 'area=dns', '--tag-meta', 'spec=RFC-9110')).events)).toEqual([]);
    expect(ran((await events(dir, '--tag-meta', 'priority=1', '--tag-meta', 'spec=RFC-1035')).events)).toEqual(['dns']);
    expect(ran((await events(dir, '--tag-meta', 'area=http', '--tag-meta', 'area=dns', '--no-tag-meta', 'spec=RFC-1035')).events)).toEqual(['web']);
    expect(ran((await events(dir, '--no-tag-meta=area=smtp')).events)).toEqual(['web', 'dns', 'bare']);
  });

  it('provium list selects the same way from literal metas', async () => {
    const r = await provium(dir, 'list', '--tag-meta', 'area=http', '--tag-meta', 'area=smtp');
    expect(r.stdout).toBe('tests/a.test.lua\n  web\n  mail');
  });

  it('an empty KEY is a usage error', async () => {
    const r = await provium(dir, '--tag-meta', '=RFC-9110');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tag-meta: expected KEY=VALUE with a non-empty KEY');
    expect((await provium(dir, '--no-tag-meta', 'spec')).stderr).toContain('--no-tag-meta: expected KEY=VALUE');
  });
});

describe('--coverage', () => {
  const dir = project({
    'tests/a.test.lua': `test("one", { spec = "RFC-9110 §9" }, function(t) end)
test("two", { spec = { "RFC-1035", "RFC-9110 §9" } }, function(t) t:fail("no") end)
test("three", { spec = "RFC-1035", skip = "later" }, function(t) end)
test("four", function(t) end)
`,
  });
  const REPORT = [
    'coverage by `spec`:',
    '  RFC-1035: 2 tests (0 passed, 1 failed, 1 skipped)',
    '  RFC-9110 §9: 2 tests (1 passed, 1 failed, 0 skipped)',
    '  <unset>: 1 tests (1 passed, 0 failed, 0 skipped)',
    '  ---',
    '  buckets: 2; 2 passed, 2 failed, 1 skipped',
  ].join('\n');

  it('prints the report after the summary; the run keeps its exit status', async () => {
    const r = await provium(dir, '--coverage');
    expect(r.code).toBe(1);
    expect(r.stdout.endsWith(`2 passed, 1 failed, 1 skipped\n${REPORT}`)).toBe(true);
  });

  it('with --json it goes to stderr, and stdout keeps only events', async () => {
    const r = await provium(dir, '--coverage', '--json');
    expect(r.stderr).toContain(REPORT);
    for (const line of r.stdout.split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });
});

describe('switches of the original', () => {
  it('--no-preflight, --no-ksm and --vmm qemu are accepted and change nothing; --vmm local is refused', async () => {
    const dir = project({ 'tests/a.test.lua': 'test("a", function(t) end)\n' });
    const r = await provium(dir, '--no-preflight', '--no-ksm', '--vmm', 'qemu', '-q');
    expect(r.code).toBe(0);
    expect(r.lastLine).toBe('1 passed, 0 failed, 0 skipped');
    const local = await provium(dir, '--vmm', 'local');
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/--vmm local is not available: .*QEMU guest/);
  });

  it('--no-progress drops the live line of running files on a terminal', async () => {
    const dir = project({ 'tests/a.test.lua': 'test("a", function(t) end)\n' });
    // script(1) gives provium a terminal for stdout.
    const tty = (...args: string[]) => execa('script', ['-qec', ['node', CLI, 'test', ...args].join(' '), '/dev/null'], { cwd: dir, env: { NO_COLOR: '1' }, reject: false });
    const withLine = await tty();
    expect(withLine.stdout).toContain('[0/1] running tests/a'); // cut to the terminal's width
    const without = await tty('--no-progress');
    expect(without.exitCode).toBe(0);
    expect(without.stdout).toContain('1 passed, 0 failed, 0 skipped');
    expect(without.stdout).not.toContain('running tests/a');
    expect(without.stdout).not.toContain('\x1b[2K');
  });

  it('--no-build uses the last outputs of a profile\'s build command without running it', async () => {
    const dir = project({
      'provium.toml': '[provium]\nroots = ["tests"]\n\n[profiles.tiny]\nkernel = "k"\ninitrd = "i"\nbuild = "echo ran >> builds.txt && printf k > {out}/k && printf i > {out}/i"\n',
      'tests/a.test.lua': 'test("resolves its profile", function(t) provium:vm("a", "tiny") end)\n',
    });
    const builds = () => (existsSync(path.join(dir, 'builds.txt')) ? readFileSync(path.join(dir, 'builds.txt'), 'utf8').split('\n').filter(Boolean).length : 0);
    const before = await events(dir, '--no-build');
    const failed = before.events.find((e) => e.event === 'test_failed') as { error: { message: string } } | undefined;
    expect(failed?.error.message).toMatch(/\[profiles\.tiny\]: kernel .*\.provium\/build\/tiny\/k does not exist .*skipped by --no-build/);
    expect(builds()).toBe(0);
    expect((await events(dir)).code).toBe(0);
    expect(builds()).toBe(1);
    expect((await events(dir, '--no-build')).code).toBe(0);
    expect(builds()).toBe(1);
  });

  it('--timeout 0 turns off the per-file watchdog, also over provium.toml\'s timeout', async () => {
    const dir = project({
      'provium.toml': '[provium]\nroots = ["tests"]\ntimeout = "1s"\n',
      'tests/spin.test.lua': 'test("1.5 s of work", function(t) local c = os.clock(); while os.clock() - c < 1.5 do end end)\n',
    });
    expect(completed((await events(dir)).events).status).toBe('timed_out');
    expect(completed((await events(dir, '--timeout', '0')).events).status).toBe('passed');
  });
});
