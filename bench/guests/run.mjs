// Real guests, each measure beside its peer, as ratios (TCG on a noisy host: absolute times mean little):
//   1. the built-in debian guest: a cold boot to the first op vs a resume of a fixture of it (goal >= 50x), the
//      first of its provium process (from the spare made as its file started: the whole file's time beside it),
//      and resumes back to back in one file (spares);
//   2. the apt fixture (apt-get install curl through an uplink) : its cache entry vs its RAM + root disk (goal <= 10%);
//   3. a fixture derived from it (one file written) : its entry vs its parent's (goal <= 10%);
//   4. guest dd throughput (O_DIRECT, 64 MiB) through a qcow2 overlay vs the same raw image opened by QEMU
//      directly, two disks of one VM (goal >= 0.9x); and a mediated disk (Provium's NBD server) vs raw.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_MEMORY, resolveProfile } from '../../packages/image/dist/index.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'runner/bin/provium.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = mkdtempSync(path.join(tmpdir(), 'provium-bench-guests-'));
const cache = path.join(dir, 'cache');
const env = { ...process.env, PROVIUM_CACHE_DIR: cache };
const write = (rel, text) => {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), text);
};

// Each timed test appends "<label> <seconds>" here (os.clock() is wall time under fengari on Node).
const times = path.join(dir, 'times.txt');
const timed = (label, body) => `  local t0 = os.clock()\n${body}\n  local f = io.open(${JSON.stringify(times)}, "a"); f:write("${label} ", os.clock() - t0, "\\n"); f:close()`;

write('provium.toml', '[provium]\nroots = ["tests"]\ntimeout = "40m"\n');
write('tests/fixtures/plain.fixture.lua', 'return provium:vm("plain", "debian"):boot():snapshot()\n');
write('tests/fixtures/apt.fixture.lua', [
  'local vm = provium:vm("apt", "debian")',
  'local net = provium:bridge("net")',
  'net:attach(vm)',
  'net:enable_uplink()',
  'vm:boot()',
  'vm:run("apt-get update && apt-get install -y --no-install-recommends curl"):assert_ok()',
  'return vm:snapshot()',
].join('\n'));
write('tests/fixtures/derived.fixture.lua', 'local vm = provium:vm_fixture("fixtures/apt")\nvm:write_file("/etc/derived", "one more file\\n")\nreturn vm:snapshot()\n');
write('tests/cold.test.lua', `test("cold", function(t)\n${timed('cold', '  provium:vm("c", "debian"):boot():run("true"):assert_ok()')}\nend)\n`);
write('tests/resume.test.lua', `test("resume", function(t)\n${timed('resume', '  provium:vm_fixture("fixtures/plain"):run("true"):assert_ok()')}\nend)\n`);
// Resumes one after another in one file, with guest work between (as tests do): from the second on, a spare.
write('tests/b2b.test.lua', `for i = 1, 4 do\n  test("resume " .. i, function(t)\n${timed('b2b', '    local vm = provium:vm_fixture("fixtures/plain")\n    vm:run("true"):assert_ok()')}\n    vm:run("sleep 2"):assert_ok()\n  end)\nend\n`);
write('tests/fixtures.test.lua', 'test("apt", function(t) provium:vm_fixture("fixtures/derived"):run("which curl"):assert_ok() end)\n');

// Two disks of one VM over the same 256 MiB of data: a raw image QEMU opens itself, and a qcow2 overlay on a copy.
const base = path.join(dir, 'base.raw');
const copy = path.join(dir, 'copy.raw');
const overlay = path.join(dir, 'overlay.qcow2');
execFileSync('truncate', ['-s', '256M', base]);
execFileSync('truncate', ['-s', '256M', copy]);
execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', copy, overlay]);
const DD = (dev) => `dd if=/dev/zero of=${dev} bs=1M count=64 oflag=direct 2>&1 | tail -1`;
write('tests/dd.test.lua', [
  `local vm = provium:vm("dd", "debian"):boot({ disks = { { id = "raw", path = ${JSON.stringify(base)} }, { id = "overlay", path = ${JSON.stringify(overlay)} }, { id = "mediated", scratch = "256M", mediated = true } } })`,
  'test("dd", function(t)',
  `  for i = 1, ${RUNS} do`,
  '    for _, d in ipairs({ { "raw", "/dev/vdb" }, { "overlay", "/dev/vdc" }, { "mediated", "/dev/vdd" } }) do',
  '      local t0 = os.clock()',
  `      vm:run(string.format(${JSON.stringify(DD('%s'))}, d[2])):assert_ok()`,
  `      local f = io.open(${JSON.stringify(times)}, "a"); f:write(d[1], " ", os.clock() - t0, "\\n"); f:close()`,
  '    end',
  '  end',
  'end)',
].join('\n'));

function run(args) {
  const r = spawnSync('node', [cli, 'test', '--json', ...args], { cwd: dir, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`provium test ${args.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** The file's wall time, from its file_completed event: a spare made as the file starts is in it, as is all of the file's work. */
const fileSeconds = (events) => events.find((e) => e.event === 'file_completed').duration_ms / 1000;

function timesOf(fn) {
  rmSync(times, { force: true });
  const events = fn();
  const out = { file: [fileSeconds(events)] };
  for (const line of readFileSync(times, 'utf8').trim().split('\n')) {
    const [label, seconds] = line.split(' ');
    (out[label] ??= []).push(Number(seconds));
  }
  return out;
}

/** Bytes on disk of the cache entry of fixture `name` (its sidecar names it). */
function entryBytes(name) {
  const fixtures = path.join(cache, 'fixtures');
  for (const f of readdirSync(fixtures).filter((n) => n.endsWith('.json'))) {
    const side = JSON.parse(readFileSync(path.join(fixtures, f), 'utf8'));
    if (side.name === name) return statSync(path.join(fixtures, f.replace(/\.json$/, '.snap'))).blocks * 512;
  }
  throw new Error(`no cache entry for ${name} in ${fixtures}`);
}

console.log('building the debian image, the plain, apt and derived fixtures (apt from Debian\'s mirror: minutes under TCG)...');
run(['tests/fixtures.test.lua', 'tests/resume.test.lua']);
const cold = [];
const resume = [];
const coldFile = [];
const resumeFile = [];
for (let i = 0; i < RUNS; i++) {
  const c = timesOf(() => run(['tests/cold.test.lua']));
  cold.push(...c.cold);
  coldFile.push(...c.file);
  const r = timesOf(() => run(['tests/resume.test.lua']));
  resume.push(...r.resume);
  resumeFile.push(...r.file);
}
const b2b = timesOf(() => run(['tests/b2b.test.lua'])).b2b.slice(1);
const dd = timesOf(() => run(['tests/dd.test.lua']));

const ok = (cond) => (cond ? 'ok' : 'MISSED');
const rootDisk = statSync((await resolveProfile('debian', undefined, { cacheDir: cache })).disk.path).size;
const apt = entryBytes('fixtures/apt');
const derived = entryBytes('fixtures/derived');
const c = median(cold);
const r = median(resume);
console.log(`debian cold boot to first op: ${c.toFixed(2)} s; fixture resume to first op: ${r.toFixed(3)} s; ${(c / r).toFixed(1)}x (goal >= 50x: ${ok(c / r >= 50)})`);
// The resume's spare is made as its file starts (before the timed call): the whole file's time says what that left out.
console.log(`  whole file (file_completed): cold ${median(coldFile).toFixed(2)} s, resume ${median(resumeFile).toFixed(3)} s; ${(median(coldFile) / median(resumeFile)).toFixed(1)}x`);
console.log(`  resumes back to back in one file (each from a spare): ${median(b2b).toFixed(3)} s; ${(c / median(b2b)).toFixed(1)}x a cold boot`);
console.log(`apt fixture entry: ${(apt / 1e6).toFixed(1)} MB = ${((100 * apt) / (DEFAULT_MEMORY + rootDisk)).toFixed(1)}% of RAM + root disk (${((DEFAULT_MEMORY + rootDisk) / 1e6).toFixed(0)} MB) (goal <= 10%: ${ok(apt <= (DEFAULT_MEMORY + rootDisk) / 10)})`);
console.log(`derived fixture entry: ${(derived / 1e6).toFixed(1)} MB = ${((100 * derived) / apt).toFixed(1)}% of its parent's (goal <= 10%: ${ok(derived <= apt / 10)})`);
const raw = median(dd.raw);
const over = median(dd.overlay);
console.log(`guest dd of 64 MiB: raw image ${(64 / raw).toFixed(1)} MiB/s, qcow2 overlay ${(64 / over).toFixed(1)} MiB/s; overlay/raw ${(raw / over).toFixed(2)}x (goal >= 0.9x: ${ok(raw / over >= 0.9)})`);
const med = median(dd.mediated);
console.log(`  mediated disk ${(64 / med).toFixed(1)} MiB/s; mediated/raw ${(raw / med).toFixed(2)}x`);
rmSync(dir, { recursive: true, force: true });
