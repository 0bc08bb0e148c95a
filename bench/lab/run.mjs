// Lab benchmark, from Lua through the CLI: a 3-VM lab booted cold vs the same
// lab resumed from its cached lab fixture (to the first guest op), and the ping
// round trip through a bridge with and without add_latency(50) (one way, so
// about +100 ms per round trip). Prints medians and ratios.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
writeFileSync(path.join(dir, 'tests/cold.test.lua'), `test("cold", function(t)\n${LAB}\nprovium.a:run("true")\nend)\n`);
writeFileSync(path.join(dir, 'tests/resume.test.lua'), `test("resume", function(t)\n  local lab = provium:lab_fixture("fixtures/trio")\n  lab.a:run("true")\nend)\n`);
writeFileSync(path.join(dir, 'tests/rtt.test.lua'), `
test("rtt", function(t)
  local lab = provium:lab_fixture("fixtures/trio")
  local function rtt()
    local out = lab.a:run("ping -c 10 -i 0.2 b.lan"):assert_ok().stdout
    return tonumber(out:match("= [%d%.]+/([%d%.]+)/"))
  end
  local plain = rtt()
  lab.lan:add_latency(50)
  t:log(string.format("RTT %.2f %.2f", plain, rtt()))
end)
`);

function run(file) {
  const r = spawnSync('node', [cli, 'test', '--json', '--timeout-scale', '3', file], { cwd: dir, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`provium test ${file} failed (${r.status}):\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.event === 'test_passed');
}

const build = spawnSync('node', [cli, 'fixture', 'build', '--timeout-scale', '3'], { cwd: dir, env, encoding: 'utf8' });
if (build.status !== 0) throw new Error(`fixture build failed:\n${build.stdout}${build.stderr}`);
const cold = [];
const resume = [];
const rtt = [];
for (let i = 0; i < RUNS; i++) {
  cold.push(run('tests/cold.test.lua').duration_ms / 1000);
  resume.push(run('tests/resume.test.lua').duration_ms / 1000);
  const [, plain, slow] = /RTT ([\d.]+) ([\d.]+)/.exec(run('tests/rtt.test.lua').log.join('\n'));
  rtt.push([Number(plain), Number(slow)]);
}
const c = median(cold);
const r = median(resume);
console.log(`3-VM lab on a bridge, to the first guest op: cold boot ${c.toFixed(2)} s, resume of the lab fixture ${r.toFixed(2)} s (${(c / r).toFixed(1)}x faster)`);
console.log(`ping RTT through the bridge: ${median(rtt.map((x) => x[0])).toFixed(2)} ms; with add_latency(50): ${median(rtt.map((x) => x[1])).toFixed(2)} ms (50 ms each way)`);
rmSync(dir, { recursive: true, force: true });
