// Runner benchmark: 200 files × 10 trivial tests, run by `provium test -j1`, `-j2`
// and by busted (Debian's lua-busted) on the same tests. Targets (issue 2):
// -j1 within 1.5× of busted; -j2 faster than busted.
//
// The three commands take turns (busted, -j1, -j2, then again), so that each
// round's ratios compare runs made under the same load: on a shared machine
// the absolute times move with the neighbours, the ratios much less. Prints
// the median time of each and the median of the per-round ratios.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';

const FILES = 200;
const TESTS = 10;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET_J1 = 1.5;
const TARGET_J2 = 1.0;
const cli = path.resolve(import.meta.dirname, '../../runner/bin/provium.js');

if (spawnSync('busted', ['--version']).error) {
  console.error('bench:runner needs busted as its peer: apt-get install lua-busted (scripts/setup.sh installs it)');
  process.exit(2);
}

const dir = mkdtempSync(path.join(tmpdir(), 'provium-bench-'));
mkdirSync(path.join(dir, 'provium'));
mkdirSync(path.join(dir, 'busted'));
for (let f = 0; f < FILES; f++) {
  const body = (i) => `local x = ${i} + ${f}\n  assert(x == ${i + f})`;
  const ours = [];
  const theirs = [`describe("file ${f}", function()`];
  for (let i = 0; i < TESTS; i++) {
    ours.push(`test("t${i}", function(t)\n  ${body(i)}\n  t:assert_eq(x, ${i + f})\nend)`);
    theirs.push(`  it("t${i}", function()\n  ${body(i)}\n  assert.are.equal(${i + f}, x)\n  end)`);
  }
  theirs.push('end)');
  writeFileSync(path.join(dir, 'provium', `f${f}.test.lua`), ours.join('\n') + '\n');
  writeFileSync(path.join(dir, 'busted', `f${f}_spec.lua`), theirs.join('\n') + '\n');
}

const commands = {
  busted: ['busted', ['-o', 'TAP', '.'], path.join(dir, 'busted')],
  j1: ['node', [cli, 'test', '-q', '-j1', '.'], path.join(dir, 'provium')],
  j2: ['node', [cli, 'test', '-q', '-j2', '.'], path.join(dir, 'provium')],
};
// A cache of its own: the first run compiles the files and caches the chunks
// (docs/configuration.md), timed apart; the rounds run with them cached.
const env = { ...process.env, PROVIUM_CACHE_DIR: path.join(dir, 'cache') };

function time([cmd, args, cwd]) {
  const start = performance.now();
  const r = spawnSync(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout.slice(-2000)}`);
  return (performance.now() - start) / 1000;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  const [bustedFirst, uncached] = [time(commands.busted), time(commands.j1)];
  const times = { busted: [], j1: [], j2: [] };
  const load = [];
  for (let round = 0; round < RUNS; round++) {
    load.push(loadavg()[0]);
    for (const [name, command] of Object.entries(commands)) times[name].push(time(command));
  }
  const ratio = (name) => median(times[name].map((t, i) => t / times.busted[i]));
  const [r1, r2] = [ratio('j1'), ratio('j2')];
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  const tests = FILES * TESTS;
  console.log(`${FILES} files × ${TESTS} tests (${tests} tests), ${RUNS} rounds; median times, median of per-round ratios`);
  console.log(`machine: ${cpus().length} CPUs, load average ${median(load).toFixed(2)} (median at the start of the rounds)`);
  console.log(`busted            ${median(times.busted).toFixed(2)} s`);
  console.log(`provium test -j1  ${median(times.j1).toFixed(2)} s   ${r1.toFixed(2)}× busted   target ≤ ${TARGET_J1}×: ${verdict(r1 <= TARGET_J1)}`);
  console.log(`provium test -j2  ${median(times.j2).toFixed(2)} s   ${r2.toFixed(2)}× busted   target < ${TARGET_J2}×: ${verdict(r2 < TARGET_J2)}`);
  console.log(`-j2 speed-up over -j1: ${(median(times.j1) / median(times.j2)).toFixed(2)}×`);
  console.log(`first run, no chunk cached: -j1 ${uncached.toFixed(2)} s, ${(uncached / bustedFirst).toFixed(2)}× busted (${bustedFirst.toFixed(2)} s just before)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
