// Fleet benchmark (issue 18): what sharding costs. A suite of 12 VM files that
// resume one fixture runs unsharded on one "machine", then as 3 shards run
// one after the other, each on a machine of its own (an empty local cache that
// shares only the built guest images) with one remote fixture cache: a real
// nginx with WebDAV PUT on loopback, empty before shard 1. Shard 1 builds the
// fixture and uploads it; shards 2 and 3 download it.
//   waste:  total CPU time (user + system, provium and its QEMUs) of the 3
//           shards / the unsharded run's (goal <= 1.15x: sharding wastes little,
//           judged on the suite whose tests do work in their guests);
//   warm:   shard 1's time (cold: builds) / shard 2's (warm remote: downloads).
// CPU time is the shell's `times` for its children, which counts the QEMU
// processes provium waited for. Two suites: files that only resume the fixture
// and run `true` (what sharding costs against nothing: its fixed costs per
// process), and files that also do about a second of work in the guest (a
// checksum of 16 MiB), closer to a real VM test.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newMachine } from '../../test/remote/machine.mjs';
import { startNginx } from '../../test/remote/nginx.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const FILES = 12;
const SHARDS = 3;
const cli = path.resolve(import.meta.dirname, '../../runner/bin/provium.js');
const dir = mkdtempSync(path.join(tmpdir(), 'provium-bench-fleet-'));

mkdirSync(path.join(dir, 'tests/fixtures'), { recursive: true });
writeFileSync(path.join(dir, 'provium.toml'), '[provium]\nroots = ["tests"]\n');
// [guest command of each test, whether the goal is judged on it]
const SUITES = {
  'resume only (fixed costs)': ['true', false],
  'resume and work': ['head -c 16777216 /dev/urandom | sha256sum', true],
};
function writeSuite(command) {
  for (let i = 1; i <= FILES; i++) {
    writeFileSync(
      path.join(dir, 'tests', `vm${String(i).padStart(2, '0')}.test.lua`),
      `test("resumes the fixture", function(t)\n  local vm = provium:vm_fixture("fixtures/base")\n  t:assert_contains(vm:read_file("/etc/marker"), "fleet")\n  vm:run(${JSON.stringify(command)}):assert_ok()\nend)\n`,
    );
  }
}

/** A machine's empty cache root, sharing the built guest images. */
const machine = () => newMachine(path.join(dir, 'machine-'));

/** Runs `provium test ARGS` on a fresh machine; its wall time and its CPU time (provium and its children), seconds. */
function run(args, env = {}) {
  const cmd = `node ${JSON.stringify(cli)} test -q --timeout-scale 3 ${args.join(' ')} >out.log 2>&1; s=$?; times; exit $s`;
  const start = performance.now();
  const r = spawnSync('bash', ['-c', cmd], { cwd: dir, env: { ...process.env, PROVIUM_CACHE_DIR: machine(), ...env }, encoding: 'utf8' });
  const wall = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`provium test ${args.join(' ')} failed (${r.status}); see ${dir}/out.log`);
  // `times`: the shell's user and system time, then its children's: "0m1.234s 0m0.567s".
  const children = r.stdout.trim().split('\n').at(-1).match(/(\d+)m([\d.]+)s/g);
  const cpu = children.map((t) => { const [, m, s] = /(\d+)m([\d.]+)s/.exec(t); return Number(m) * 60 + Number(s); }).reduce((a, b) => a + b, 0);
  return { wall, cpu };
}

const nginx = await startNginx();
try {
  console.log(`bench:shard fleet: ${FILES} VM files on one fixture; unsharded vs ${SHARDS} shards in a row, each on an empty local cache, one nginx remote cache (TCG)`);
  for (const [suite, [command, judged]] of Object.entries(SUITES)) {
    writeSuite(command);
    for (let round = 1; round <= RUNS; round++) {
      rmSync(nginx.dir, { recursive: true, force: true });
      mkdirSync(nginx.dir, { recursive: true });
      writeFileSync(path.join(dir, 'tests/fixtures/base.fixture.lua'), `local vm = provium:vm("base", "default"):boot()\nvm:write_file("/etc/marker", "fleet ${round} ${Date.now()}\\n")\nreturn vm:snapshot()\n`);
      const whole = run([]);
      const shards = Array.from({ length: SHARDS }, (_, i) => run(['--shard', `${i + 1}/${SHARDS}`], { PROVIUM_REMOTE_CACHE: nginx.url }));
      const cpu = shards.reduce((t, s) => t + s.cpu, 0);
      console.log(`${suite}, round ${round}: unsharded ${whole.wall.toFixed(2)} s wall, ${whole.cpu.toFixed(2)} s CPU`);
      console.log(`  shards: ${shards.map((s, i) => `${i + 1}: ${s.wall.toFixed(2)} s wall, ${s.cpu.toFixed(2)} s CPU`).join('; ')}`);
      const waste = cpu / whole.cpu;
      const verdict = judged ? `goal <= 1.15x: ${waste <= 1.15 ? 'met' : 'MISSED'}` : 'what each process\'s fixed costs come to against tests that do nothing';
      console.log(`  waste: CPU of the ${SHARDS} shards / unsharded = ${cpu.toFixed(2)} / ${whole.cpu.toFixed(2)} = ${waste.toFixed(2)}x (${verdict})`);
      console.log(`  warm remote: shard 1 (builds) / shard 2 (downloads) = ${(shards[0].wall / shards[1].wall).toFixed(2)}x faster`);
    }
  }
} finally {
  await nginx.stop();
  rmSync(dir, { recursive: true, force: true });
}
