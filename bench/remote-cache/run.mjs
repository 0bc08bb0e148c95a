// A fixture that another machine built, brought here, vs building it here — as ratios (TCG on a noisy host):
//   build   `provium fixture build` on an empty local cache and an empty remote: builds, then uploads;
//   fetch   the same on another empty local cache, the remote holding the entry: downloads and verifies it;
//   import  `provium fixture import` of an exported archive into an empty cache.
// The remote is a real nginx (WebDAV PUT) on loopback; each command is timed whole (process start included).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newMachine } from '../../test/remote/machine.mjs';
import { startNginx } from '../../test/remote/nginx.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'runner/bin/provium.js');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = mkdtempSync(path.join(tmpdir(), 'provium-bench-remote-'));

mkdirSync(path.join(dir, 'tests/fixtures'), { recursive: true });
writeFileSync(path.join(dir, 'provium.toml'), '[provium]\nroots = ["tests"]\n');
writeFileSync(path.join(dir, 'tests/fixtures/base.fixture.lua'), 'local vm = provium:vm("base", "default"):boot()\nvm:write_file("/etc/marker", "bench\\n")\nreturn vm:snapshot()\n');

/** A machine's empty cache root, sharing the built guest images. */
const machine = () => newMachine(path.join(dir, 'machine-'));

function provium(cache, args) {
  const t0 = performance.now();
  const r = spawnSync('node', [cli, ...args], { cwd: dir, env: { ...process.env, PROVIUM_CACHE_DIR: cache }, encoding: 'utf8' });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`provium ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return { s, out: r.stdout };
}

const nginx = await startNginx();
try {
  const remote = ['--remote-cache', nginx.url, '--timeout-scale', '3'];
  const t = { build: [], fetch: [], import: [], upload: [] };
  let mb = 0;
  for (let i = 0; i < RUNS; i++) {
    for (const f of readdirSync(nginx.dir)) rmSync(path.join(nginx.dir, f));
    const built = machine();
    const b = provium(built, ['fixture', 'build', 'fixtures/base', ...remote]);
    if (!/^built /m.test(b.out)) throw new Error(`expected a build:\n${b.out}`);
    const up = /^uploaded fixtures\/base \(([\d.]+) s, ([\d.]+) MB\)/m.exec(b.out);
    if (!up) throw new Error(`expected an upload:\n${b.out}`);
    t.build.push(b.s);
    t.upload.push(Number(up[1]));
    mb = Number(up[2]);
    const f = provium(machine(), ['fixture', 'build', 'fixtures/base', ...remote]);
    if (!/^fetched /m.test(f.out)) throw new Error(`expected a download:\n${f.out}`);
    t.fetch.push(f.s);
    const archive = path.join(dir, `fixtures-${i}.tar`);
    provium(built, ['fixture', 'export', archive]);
    t.import.push(provium(machine(), ['fixture', 'import', archive]).s);
  }
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
  console.log(`fixture entry ${mb} MB (default guest, 256 MB RAM), ${RUNS} runs, medians`);
  console.log(`build here + upload  ${m.build.toFixed(2)} s (of which upload ${m.upload.toFixed(2)} s)`);
  console.log(`fetch from remote    ${m.fetch.toFixed(2)} s   = ${(m.build / m.fetch).toFixed(1)}x faster than building`);
  console.log(`import an archive    ${m.import.toFixed(2)} s   = ${(m.build / m.import).toFixed(1)}x faster than building`);
} finally {
  await nginx.stop();
  rmSync(dir, { recursive: true, force: true });
}
