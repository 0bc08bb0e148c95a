/**
 * The seed's fixture example, literally, on the built-in debian guest: the
 * project in examples/debian run by the built CLI. Its fixture boots Debian
 * with systemd on a bridge with an uplink, installs curl with apt from
 * Debian's mirror and returns the VM's snapshot; its test resumes it and finds
 * curl, with the uplink gone. Run twice: the second run resumes the cached
 * fixture without building it. (The first run builds the debian image and
 * runs apt under TCG: minutes.) Beside the example, a fixture snapshotted
 * right after its boot: a systemd guest's boot goes on after its agent
 * answers, and a fixture's snapshot waits for it to end (snapshot-prep.ts).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectAccel } from '@provium/qemu';
import type { RunEvent } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
const EXAMPLE = path.resolve(__dirname, '../../examples/debian');
let dir: string;
const runs: { events: RunEvent[]; stderr: string; code: number | undefined }[] = [];

async function run(): Promise<void> {
  const r = await execa('node', [CLI, 'test', '--json', '--timeout-scale', '2'], { cwd: dir, reject: false, env: { PROVIUM_CACHE_DIR: path.join(dir, 'cache') } });
  runs.push({ events: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent), stderr: r.stderr, code: r.exitCode });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-debian-apt-'));
  cpSync(EXAMPLE, dir, { recursive: true });
  writeFileSync(path.join(dir, 'fixtures/booted.fixture.lua'), 'return provium:vm("booted", "debian"):boot():snapshot()\n');
  // `systemctl is-system-running` says "starting" while the boot goes on, "running" (or "degraded": a unit failed) once it is over.
  writeFileSync(path.join(dir, 'booted.test.lua'), [
    'test("a fixture snapshotted right after the boot resumes with the boot over", function(t)',
    '  local vm = provium:vm_fixture("fixtures/booted")',
    '  t:log("state " .. vm:run("systemctl is-system-running || true").stdout)',
    '  t:log("aslr " .. vm:run("cat /proc/sys/kernel/randomize_va_space").stdout)',
    'end)',
  ].join('\n'));
  // A fixture cache of its own, so the first run builds; the guest images are the run's usual ones (built once).
  mkdirSync(path.join(dir, 'cache'));
  const cacheRoot = process.env.PROVIUM_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'provium');
  mkdirSync(path.join(cacheRoot, 'images'), { recursive: true });
  symlinkSync(path.join(cacheRoot, 'images'), path.join(dir, 'cache', 'images'));
  await run();
  await run();
}, 3_000_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('examples/debian: apt in a fixture, behind an uplink', () => {
  it('builds the fixture, and its test finds curl with the uplink gone', () => {
    const [first] = runs;
    const test = first.events.find((e) => (e.event === 'test_passed' || e.event === 'test_failed') && e.file === 'apt.test.lua');
    expect(test?.event, `${JSON.stringify(test)}\n${first.stderr.slice(-4000)}`).toBe('test_passed');
    expect(first.events.filter((e) => e.event === 'fixture_build_done' && e.fixture === 'fixtures/apt')).toHaveLength(1);
    expect(first.code).toBe(0);
  });

  it('resumes the cached fixture in the next run without building it', () => {
    const second = runs[1];
    expect(second.events.find((e) => e.event === 'test_passed' && e.file === 'apt.test.lua'), second.stderr.slice(-4000)).toBeDefined();
    expect(second.events.filter((e) => e.event === 'fixture_build_started')).toHaveLength(0);
  });

  it('a fixture snapshotted right after its boot resumes with the boot over, in both runs', () => {
    for (const r of runs) {
      const test = r.events.find((e) => (e.event === 'test_passed' || e.event === 'test_failed') && e.test.includes('boot over'));
      expect(test?.event, `${JSON.stringify(test)}\n${r.stderr.slice(-4000)}`).toBe('test_passed');
      expect((test as { log: string[] }).log.join('\n')).toMatch(/^state (running|degraded)$/m);
    }
  });

  it('boots with randomized address space layouts under KVM only (the debian profile\'s norandmaps under TCG)', () => {
    const test = runs[0].events.find((e) => e.event === 'test_passed' && e.test.includes('boot over'));
    expect((test as { log: string[] }).log.join('\n')).toMatch(detectAccel() === 'tcg' ? /^aslr 0$/m : /^aslr 2$/m);
  });
});
