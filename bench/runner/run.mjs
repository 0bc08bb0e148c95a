// Runner benchmark: 200 files × 10 trivial tests, run by `provium test -j1`, `-j2`
// and by busted (Debian's lua-busted) on the same tests. Prints medians and ratios.
// Targets: -j1 within 1.5× of busted; -j2 faster than busted.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const FILES = 200;
const TESTS = 10;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
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

function time(cmd, args, cwd) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout.slice(-2000)}`);
    times.push((performance.now() - start) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

try {
  const busted = time('busted', ['-o', 'TAP', '.'], path.join(dir, 'busted'));
  const j1 = time('node', [cli, 'test', '-q', '-j1', '.'], path.join(dir, 'provium'));
  const j2 = time('node', [cli, 'test', '-q', '-j2', '.'], path.join(dir, 'provium'));
  const tests = FILES * TESTS;
  console.log(`${FILES} files × ${TESTS} tests (${tests} tests), median of ${RUNS} runs`);
  console.log(`busted            ${busted.toFixed(2)} s`);
  console.log(`provium test -j1  ${j1.toFixed(2)} s   ${(j1 / busted).toFixed(2)}× busted (target ≤ 1.5×)`);
  console.log(`provium test -j2  ${j2.toFixed(2)} s   ${(j2 / busted).toFixed(2)}× busted (target < 1.0×)`);
  console.log(`-j2 speed-up over -j1: ${(j1 / j2).toFixed(2)}×`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
