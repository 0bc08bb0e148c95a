// Lab benchmark, from Lua through the CLI: a 3-VM lab on a bridge booted cold vs
// the same lab resumed from its cached lab fixture, to the end of its first guest
// op; where a resume's time goes (PROVIUM_TRACE spans of the runtime); and the
// ping round trip through a bridge with and without add_latency(50) (one way, so
// about +100 ms per round trip). Prints medians and ratios.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const cli = path.resolve(import.meta.dirname, '../../runner/bin/provium.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = mkdtempSync(path.join(tmpdir(), 'provium-bench-lab-'));
const env = { ...process.env, PROVIUM_CACHE_DIR: path.join(dir, 'cache') };

const LAB = `provium:bridge("lan")
  local a = provium:vm("a", "default")
  local b = provium:vm("b", "default")
  local c = provium:vm("c", "default")
  provium.lan:attach({a, b, c})
  provium:boot()`;
mkdirSync(path.join(dir, 'tests/fixtures'), { recursive: true });
writeFileSync(path.join(dir, 'provium.toml'), '[provium]\nroots = ["tests"]\n');
writeFileSync(path.join(dir, 'tests/fixtures/trio.fixture.lua'), `${LAB}\nreturn provium:snapshot()\n`);

// Each timed test appends "<label> <to the lab> <to the end of the first op>" (seconds) to this
// file, from the call that boots or resumes the lab, without the test's teardown. (os.clock() is
// the process's uptime under fengari on Node: wall time, not CPU time.)
const times = path.join(dir, 'times.txt');
const timed = (label, getLab, firstOp, after = '') => `  local t0 = os.clock()
  ${getLab}
  local t1 = os.clock()
  ${firstOp}
  local t2 = os.clock()
  local f = io.open(${JSON.stringify(times)}, "a"); f:write("${label} ", t1 - t0, " ", t2 - t0, "\\n"); f:close()${after}`;
const RESUME = 'local lab = provium:lab_fixture("fixtures/trio")';
const FIRST_OP = 'lab.a:run("true"):assert_ok()';
writeFileSync(path.join(dir, 'tests/cold.test.lua'), `test("cold", function(t)\n${timed('cold', LAB, 'provium.a:run("true"):assert_ok()')}\nend)\n`);
writeFileSync(path.join(dir, 'tests/first.test.lua'), `test("resume", function(t)\n${timed('first', RESUME, FIRST_OP)}\nend)\n`);
// Resumes after the first in one process (keys known, templates unpacked, the driver loaded):
// back to back, each test only resuming and running one command; and in tests that go on for
// 1 s after their first op, time in which the worker restores the next lab ahead (spares).
const laterFile = (label, after) =>
  Array.from({ length: 6 }, (_, i) => `test("resume ${i}", function(t)\n${timed(i === 0 ? 'warmup' : label, RESUME, FIRST_OP, after)}\nend)\n`).join('');
writeFileSync(path.join(dir, 'tests/steady.test.lua'), laterFile('steady', ''));
writeFileSync(path.join(dir, 'tests/working.test.lua'), laterFile('working', '\n  lab.b:run("sleep 1")'));
writeFileSync(path.join(dir, 'tests/rtt.test.lua'), `
test("rtt", function(t)
  ${RESUME}
  local function rtt()
    local out = lab.a:run("ping -c 10 -i 0.2 b.lan"):assert_ok().stdout
    return tonumber(out:match("= [%d%.]+/([%d%.]+)/"))
  end
  local plain = rtt()
  lab.lan:add_latency(50)
  t:log(string.format("RTT %.2f %.2f", plain, rtt()))
end)
`);

const trace = path.join(dir, 'trace.jsonl');
/** Runs one test file; returns its passed events, the times its tests wrote and the trace spans of the run. */
function run(file) {
  rmSync(times, { force: true });
  rmSync(trace, { force: true });
  const r = spawnSync('node', [cli, 'test', '--json', '--timeout-scale', '3', file], { cwd: dir, env: { ...env, PROVIUM_TRACE: trace }, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`provium test ${file} failed (${r.status}):\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  const lines = (f) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : []);
  const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return {
    passed: events.filter((e) => e.event === 'test_passed'),
    // The file's wall time: a spare lab made as the file starts (before the timed call) is in it.
    file: events.find((e) => e.event === 'file_completed').duration_ms / 1000,
    times: lines(times).map((l) => l.split(' ')).map(([label, lab, op]) => ({ label, lab: Number(lab), op: Number(op) })),
    spans: lines(trace).map((l) => JSON.parse(l)),
  };
}

/**
 * Per resume of a run (the "find fixture" span opens one): each span's time, the
 * slowest VM's for per-VM spans (a lab costs what its slowest VM costs).
 */
function breakdown(spans) {
  const starts = spans.filter((s) => s.span === 'find fixture').map((s) => s.start).sort((a, b) => a - b);
  const resumes = starts.map(() => new Map());
  for (const s of spans) {
    const i = starts.findLastIndex((t) => t <= s.start);
    if (i < 0) continue;
    const m = resumes[i];
    m.set(s.span, Math.max(m.get(s.span) ?? 0, s.ms));
  }
  return resumes;
}

const build = spawnSync('node', [cli, 'fixture', 'build', '--timeout-scale', '3'], { cwd: dir, env, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`fixture build failed:\n${build.stdout}${build.stderr}`);
const samples = { cold: [], first: [], steady: [], working: [] };
const files = { cold: [], first: [] };
const spans = { first: [], steady: [], working: [] };
const rtt = [];
for (let i = 0; i < RUNS; i++) {
  for (const [file, kinds] of [['cold', ['cold']], ['first', ['first']], ['steady', ['steady']], ['working', ['working']]]) {
    const r = run(`tests/${file}.test.lua`);
    for (const k of kinds) samples[k].push(...r.times.filter((t) => t.label === k));
    files[file]?.push(r.file);
    // The first resume of a later-resumes file is its warm-up: its spans are not counted.
    if (spans[file]) spans[file].push(...breakdown(r.spans).slice(file === 'first' ? 0 : 1));
  }
  const [, plain, slow] = /RTT ([\d.]+) ([\d.]+)/.exec(run('tests/rtt.test.lua').passed[0].log.join('\n'));
  rtt.push([Number(plain), Number(slow)]);
}

const cold = median(samples.cold.map((t) => t.op));
console.log(`3-VM lab on a bridge, to the end of its first guest op (medians of ${RUNS} runs):`);
console.log(`  cold boot ${cold.toFixed(2)} s`);
const DESCRIBE = {
  first: 'resume, first in its process (from the spare lab made as its file started)',
  steady: 'resume later in a process, tests back to back',
  working: 'resume later in a process, tests working 1 s after their first op',
};
for (const k of ['first', 'steady', 'working']) {
  const op = median(samples[k].map((t) => t.op));
  const lab = median(samples[k].map((t) => t.lab));
  console.log(`  ${DESCRIBE[k]}: ${op.toFixed(3)} s = ${(cold / op).toFixed(1)}x faster than the cold boot (target >= 15x: ${cold / op >= 15 ? 'ok' : 'MISSED'}); lab_fixture returned at ${lab.toFixed(3)} s, first op ${(op - lab).toFixed(3)} s`);
}
console.log(`  whole file (file_completed), cold boot ${median(files.cold).toFixed(2)} s, first resume in its process ${median(files.first).toFixed(3)} s: ${(median(files.cold) / median(files.first)).toFixed(1)}x`);
console.log('where a resume goes (ms, medians; per-VM spans: the slowest VM of each resume; spans overlap):');
const names = [...new Set(Object.values(spans).flatMap((rs) => rs.flatMap((m) => [...m.keys()])))];
console.table(Object.fromEntries(names.map((n) => [n, Object.fromEntries(Object.entries(spans).map(([k, rs]) => {
  const xs = rs.map((m) => m.get(n)).filter((x) => x !== undefined);
  return [k, xs.length ? Number(median(xs).toFixed(1)) : '-'];
}))])));
console.log(`ping RTT through the bridge: ${median(rtt.map((x) => x[0])).toFixed(2)} ms; with add_latency(50): ${median(rtt.map((x) => x[1])).toFixed(2)} ms (50 ms each way)`);
rmSync(dir, { recursive: true, force: true });
