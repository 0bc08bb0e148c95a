// The default guest's cold boot (launch → the agent's first answer) with its kernel booted as the PVH
// vmlinux (the default) vs as the bzImage (kernel_format = "bzimage", which vm:wakeup() needs), alternating
// in one file so both meet the same host load; and a bzImage guest's suspend to RAM + vm:wakeup().
// Prints medians and the ratio. Run: npm run build && node bench/vm/kernel-format.mjs (BENCH_RUNS, default 5).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const cli = path.resolve(import.meta.dirname, '../../runner/bin/provium.js');
const dir = mkdtempSync(path.join(tmpdir(), 'provium-bench-kernel-format-'));
const times = path.join(dir, 'times.txt');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// os.clock() is wall time under fengari on Node.
writeFileSync(path.join(dir, 'boots.test.lua'), `
local function note(label, t0)
  local f = io.open(${JSON.stringify(times)}, "a"); f:write(label, " ", os.clock() - t0, "\\n"); f:close()
end
test("boots", function(t)
  for i = 1, ${RUNS} do
    for _, format in ipairs(i % 2 == 1 and { "pvh", "bzimage" } or { "bzimage", "pvh" }) do
      local t0 = os.clock()
      local vm = provium:vm(format .. i, "default", { kernel_format = format }):boot()
      vm:run("true"):assert_ok()
      note(format, t0)
      if format == "bzimage" then
        vm:run_async("echo mem > /sys/power/state")
        wait_until(function() return vm:state() == "suspended" end, { timeout = "60s" })
        t0 = os.clock()
        vm:wakeup()
        vm:run("true"):assert_ok()
        note("wakeup", t0)
      end
      vm:shutdown()
    end
  end
end)
`);

const r = spawnSync('node', [cli, 'test', '--timeout-scale', '3', 'boots.test.lua'], { cwd: dir, encoding: 'utf8' });
if (r.status !== 0) throw new Error(`provium test failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
const by = {};
for (const line of readFileSync(times, 'utf8').trim().split('\n')) {
  const [label, seconds] = line.split(' ');
  (by[label] ??= []).push(Number(seconds));
}
const pvh = median(by.pvh);
const bz = median(by.bzimage);
const range = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
console.log(`default guest, cold boot to the first op, median of ${RUNS} alternating: PVH vmlinux ${pvh.toFixed(2)} s (${range(by.pvh)}), bzImage ${bz.toFixed(2)} s (${range(by.bzimage)}); bzImage/PVH ${(bz / pvh).toFixed(2)}x`);
console.log(`bzImage guest: vm:wakeup() to the next op answered, median ${median(by.wakeup).toFixed(3)} s (${range(by.wakeup)})`);
rmSync(dir, { recursive: true, force: true });
