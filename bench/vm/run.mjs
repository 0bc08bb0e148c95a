// VM benchmark, beside its floor: a plain qemu-system-x86_64 boot of the same
// kernel + initrd to a shell prompt on the serial console. Measures Provium's
// cold boot to the first guest operation and the vm:run("true") round trip,
// and 20 vm:stat calls one by one against one vm:batch of 20 stats.
// The round trip's peer is the guest's own part of it: a C loop in the same
// guest that vforks, execs `/bin/sh -c true` and waits (spawn-floor.c), timed
// in blocks that alternate with the round trips'. Beside it, the same loop
// idling IDLE_PAUSE_US before each spawn, as the guest idles between
// back-to-back round trips while the host works: what this host charges a
// guest that idles, not a target (docs/agent-speed.md).
// Targets: boot within 1.2× of the floor; round trip under 5 ms under TCG and
// within 1.3× of the guest's own spawn. The round trips are traced
// (PROVIUM_TRACE_CALLS) to print where Provium's share of them goes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { detectAccel } from '../../packages/qemu/dist/index.js';
import { medians, phases, report } from './breakdown.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BLOCKS = 4;
const PER_BLOCK = 50;
const WARM_UP = 10;
/** About the host's part of a round trip (transit, codec, worker, Lua): how long the guest idles between calls. */
const IDLE_PAUSE_US = 1000;
/** Stats per batch, and per row of single calls it is compared with; rows of each per block. */
const BATCH_OPS = 20;
const BATCH_ROWS = 10;
const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'runner/bin/provium.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const prepared = spawnSync('node', [cli, 'prepare'], { encoding: 'utf8' });
if (prepared.status !== 0) throw new Error(`provium prepare failed:\n${prepared.stdout}${prepared.stderr}`);
const field = (name) => new RegExp(`${name} (.*)`).exec(prepared.stdout)[1].trim();
const [kernel, initrd, cmdline] = [field('kernel'), field('initrd'), field('cmdline')];
const accel = detectAccel(); // as Provium's VMs are launched
const build = mkdtempSync(path.join(tmpdir(), 'provium-bench-vm-floor-'));
const spawnFloor = path.join(build, 'spawn-floor');

let floorResends = 0;

/** The floor: QEMU with the same kernel and initrd, until the guest's shell prompt appears on the console. */
function plainBoot() {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const q = spawn('qemu-system-x86_64', [
      '-accel', accel, '-nodefaults', '-no-user-config', '-display', 'none', '-machine', 'pc-i440fx-7.2', '-m', '256M',
      '-kernel', kernel, '-initrd', initrd, '-append', cmdline, '-serial', 'stdio', '-no-reboot',
    ], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let resend;
    const timer = setTimeout(() => { clearInterval(resend); q.kill('SIGKILL'); reject(new Error(`no prompt within 60 s:\n${out.slice(-500)}`)); }, 60_000);
    q.stdout.on('data', (d) => {
      out += d;
      // Once the console shell shows its prompt ("...# "), have it echo a marker: then it runs commands.
      // Again every 2 s without an answer: a line typed while the shell sets its terminal up can be lost.
      if (out.includes('# ') && !resend) {
        const ask = () => q.stdin.write('echo floor-$((1+1))\n');
        ask();
        resend = setInterval(() => { floorResends++; ask(); }, 2000);
      }
      if (out.includes('floor-2')) { clearTimeout(timer); clearInterval(resend); const t = performance.now() - start; q.kill('SIGKILL'); resolve(t / 1000); }
    });
  });
}

/** Provium: a test file that boots the default guest and times its first op and a round-trip loop. */
function provium() {
  const dir = mkdtempSync(path.join(tmpdir(), 'provium-bench-vm-'));
  writeFileSync(path.join(dir, 'b.test.lua'), `
test("bench", function(t)
  local vm = provium:vm("bench", "default")
  vm:boot()
  vm:run("true")
end)
`);
  // Timed after a warm-up: the first commands of a fresh guest pay TCG's first translation of the exec path.
  writeFileSync(path.join(dir, 'rt.test.lua'), `
local vm = provium:vm("rt", "default"):boot()
test("round trips", function(t)
  vm:push_file(${JSON.stringify(spawnFloor)}, "/tmp/spawn-floor")
  vm:run("chmod +x /tmp/spawn-floor")
  for i = 1, ${WARM_UP} do vm:run("true") end
  vm:run("/tmp/spawn-floor ${WARM_UP} 0 /bin/sh -c true")
  local rt, guest, idled = 0, 0, 0
  for b = 1, ${BLOCKS} do
    local t0 = os.clock()
    for i = 1, ${PER_BLOCK} do vm:run("true") end
    rt = rt + (os.clock() - t0) / ${PER_BLOCK}
    guest = guest + tonumber(vm:run("/tmp/spawn-floor ${PER_BLOCK} 0 /bin/sh -c true").stdout) / 1e6
    idled = idled + tonumber(vm:run("/tmp/spawn-floor ${PER_BLOCK} ${IDLE_PAUSE_US} /bin/sh -c true").stdout) / 1e6
  end
  print(string.format("rt %.6f guest %.6f idled %.6f", rt / ${BLOCKS}, guest / ${BLOCKS}, idled / ${BLOCKS}))
  -- ${BATCH_OPS} stats one call each, against one vm:batch of ${BATCH_OPS} stats, in alternating blocks
  for i = 1, ${WARM_UP} do vm:stat("/tmp") vm:batch(function(b) b:stat("/tmp") end) end
  local single, batched = 0, 0
  for b = 1, ${BLOCKS} do
    local t0 = os.clock()
    for i = 1, ${BATCH_ROWS} do
      for j = 1, ${BATCH_OPS} do vm:stat("/tmp") end
    end
    single = single + (os.clock() - t0) / ${BATCH_ROWS}
    t0 = os.clock()
    for i = 1, ${BATCH_ROWS} do
      vm:batch(function(bb) for j = 1, ${BATCH_OPS} do bb:stat("/tmp") end end)
    end
    batched = batched + (os.clock() - t0) / ${BATCH_ROWS}
  end
  print(string.format("stats %.6f batch %.6f", single / ${BLOCKS}, batched / ${BLOCKS}))
end)
`);
  const traceFile = path.join(dir, 'calls.jsonl');
  try {
    const env = { ...process.env, PROVIUM_TRACE_CALLS: traceFile };
    const r = spawnSync('node', [cli, 'test', '--json', '-j1', 'b.test.lua', 'rt.test.lua'], { cwd: dir, encoding: 'utf8', env });
    const ev = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const passed = (name) => ev.find((e) => e.event === 'test_passed' && e.test === name);
    if (!passed('bench') || !passed('round trips')) throw new Error(`benchmark tests failed:\n${r.stdout}${r.stderr}`);
    const log = passed('round trips').log.join('\n');
    const [, rt, guest, idled] = /^rt (\S+) guest (\S+) idled (\S+)$/m.exec(log);
    const [, stats, batch] = /^stats (\S+) batch (\S+)$/m.exec(log);
    return {
      boot: passed('bench').duration_ms / 1000,
      roundTripMs: Number(rt) * 1000,
      guestSpawnMs: Number(guest) * 1000,
      idledSpawnMs: Number(idled) * 1000,
      statsMs: Number(stats) * 1000,
      batchMs: Number(batch) * 1000,
      phases: phases(readFileSync(traceFile, 'utf8'), 'true'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Microseconds tasks waited for a CPU so far (Linux PSI), or undefined where there is none. */
function cpuStall() {
  try {
    return Number(/^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))[1]);
  } catch {
    return undefined;
  }
}
const stallAtStart = cpuStall();
const startedAt = performance.now();

const floors = [];
const boots = [];
const rts = [];
const guestSpawns = [];
const idledSpawns = [];
const statRuns = [];
const batchRuns = [];
const breakdowns = [];
try {
  const built = spawnSync('gcc', ['-O2', '-static', '-o', spawnFloor, path.join(import.meta.dirname, 'spawn-floor.c')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building spawn-floor.c failed (gcc and libc6-dev come with npm run setup):\n${built.stderr}`);
  for (let i = 0; i < RUNS; i++) {
    floors.push(await plainBoot());
    const p = provium();
    boots.push(p.boot);
    rts.push(p.roundTripMs);
    guestSpawns.push(p.guestSpawnMs);
    idledSpawns.push(p.idledSpawnMs);
    statRuns.push(p.statsMs);
    batchRuns.push(p.batchMs);
    breakdowns.push(p.phases);
  }
} finally {
  rmSync(build, { recursive: true, force: true });
}
const floor = median(floors);
const boot = median(boots);
// Each provium boot runs right after its floor boot: the pair shares the host's load of that moment,
// so the median of the pairs' ratios is the steadier comparison on a noisy machine.
const ratio = median(boots.map((b, i) => b / floors[i]));
console.log(`accelerator ${accel.toUpperCase()}, 256M, median of ${RUNS} runs`);
console.log(`plain QEMU boot to a shell command (floor)   ${floor.toFixed(2)} s`);
console.log(`provium: vm:boot() + first vm:run           ${boot.toFixed(2)} s   ${ratio.toFixed(2)}× the floor, median of paired runs (target ≤ 1.2×; ratio of the medians ${(boot / floor).toFixed(2)}×)`);
if (floorResends) console.log(`(the floor's marker command was typed again ${floorResends} time(s): those floor boots count up to 2 s long)`);
console.log(`provium: vm:run("true") round trip          ${median(rts).toFixed(2)} ms (target < 5 ms)`);
console.log(`the guest alone: vfork + exec sh -c true    ${median(guestSpawns).toFixed(2)} ms   provium adds ${median(rts.map((r, i) => r - guestSpawns[i])).toFixed(2)} ms, ${median(rts.map((r, i) => r / guestSpawns[i])).toFixed(2)}× (median of runs; target ≤ 1.3×)`);
console.log(`  the same, idling ${IDLE_PAUSE_US / 1000} ms before each   ${median(idledSpawns).toFixed(2)} ms   ${median(idledSpawns.map((x, i) => x / guestSpawns[i])).toFixed(2)}× the loop without pauses; vm:run is ${median(rts.map((r, i) => r / idledSpawns[i])).toFixed(2)}× this (not a target: what this host charges a guest that idles)`);
console.log(`provium: ${BATCH_OPS} vm:stat calls one by one       ${median(statRuns).toFixed(2)} ms; one vm:batch of ${BATCH_OPS} stats ${median(batchRuns).toFixed(2)} ms   ${median(statRuns.map((x, i) => x / batchRuns[i])).toFixed(1)}× faster (median of runs; goal ≥ 5×)`);
for (const line of report(medians(breakdowns), median(guestSpawns), breakdowns[0].total.length)) console.log(line);
// Other work on the machine stretches every host hand-off of a round trip, and none of the guest's own loop.
const stall = cpuStall();
if (stall !== undefined && stallAtStart !== undefined) {
  console.log(`CPU pressure during the runs: tasks waited for a CPU ${((stall - stallAtStart) / 1000 / (performance.now() - startedAt) * 100).toFixed(0)}% of the time (PSI "some"; the numbers above hold for a quiet machine only when it is low)`);
}
