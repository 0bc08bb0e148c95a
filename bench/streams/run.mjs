// Tail stream benchmark, from Lua through the CLI on one default guest: how
// long after a guest command appends a line the test has read it, through
// vm:tail_file (the agent looks at the file every 50 ms) and through its peer,
// the guest's own `tail -F` read as a process stream (busybox's looks every
// second). The command's own time (the append alone) is measured too and taken
// off both. Prints medians and the ratio.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const cli = path.resolve(import.meta.dirname, '../../runner/bin/provium.js');
const dir = mkdtempSync(path.join(tmpdir(), 'provium-bench-streams-'));

// os.clock() is the process's uptime under fengari on Node: wall time.
writeFileSync(path.join(dir, 'streams.test.lua'), `
local vm = provium:vm("bench", "default"):boot()
local function median(xs) table.sort(xs) return xs[math.floor(#xs / 2) + 1] end
local function timed(file, read)
  local xs = {}
  for i = 1, ${ROUNDS} do
    local t0 = os.clock()
    vm:run("echo line" .. i .. " >> " .. file)
    if read then read("line" .. i .. "\\n") end
    xs[#xs + 1] = os.clock() - t0
  end
  return median(xs)
end
test("append to read", function(t)
  vm:write_file("/tmp/a.log", "")
  vm:write_file("/tmp/b.log", "")
  vm:write_file("/tmp/c.log", "")
  local append = timed("/tmp/a.log")
  local s = vm:tail_file("/tmp/b.log")
  local ours = timed("/tmp/b.log", function(n) s:read_until(n, "30s") end)
  s:close()
  local out = vm:run_async("exec tail -F /tmp/c.log"):stdout_stream()
  local peer = timed("/tmp/c.log", function(n) out:read_until(n, "30s") end)
  t:log(string.format("TIMES %.4f %.4f %.4f", append, ours, peer))
end)
`);
const r = spawnSync('node', [cli, 'test', '--json', '--timeout-scale', '3', 'streams.test.lua'], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
const passed = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.event === 'test_passed');
rmSync(dir, { recursive: true, force: true });
if (!passed) throw new Error(`the benchmark's test failed (${r.status}):\n${r.stderr}\n${r.stdout.slice(-3000)}`);
const [append, ours, peer] = /TIMES ([\d.]+) ([\d.]+) ([\d.]+)/.exec(passed.log.join('\n')).slice(1).map(Number);
const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
console.log(`a guest command appends a line, the test reads it (medians of ${ROUNDS}):`);
console.log(`  the append alone (vm:run):               ${ms(append)}`);
console.log(`  vm:tail_file:                            ${ms(ours)} (+${ms(ours - append)} after the append)`);
console.log(`  peer, guest tail -F as a process stream: ${ms(peer)} (+${ms(peer - append)} after the append)`);
console.log(`  ratio of the time after the append, peer / tail_file: ${((peer - append) / Math.max(ours - append, 1e-4)).toFixed(1)}x`);
