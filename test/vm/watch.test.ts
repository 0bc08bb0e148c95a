/**
 * `provium --watch` with a VM: no QEMU and no run directory is left between
 * runs, and Ctrl-C ends the watch (130) with nothing left behind, the events
 * socket included.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import type { RunEvent, VmSpawned } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const FILE = (greeting: string) => `test("boots", function(t)
  local vm = provium:vm("w", "default"):boot()
  t:assert_eq(vm:run("echo ${greeting}").stdout, "${greeting}\\n")
end)
`;

it('reruns a VM test on change; between runs and after Ctrl-C no QEMU, run directory or socket is left', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provium-watch-'));
  // QEMU's run directories go under $XDG_RUNTIME_DIR/provium: this run's own.
  const runtime = path.join(dir, 'runtime');
  try {
    writeFileSync(path.join(dir, 'vm.test.lua'), FILE('one'));
    const socket = path.join(dir, 'events.sock');
    const run = execa('node', [CLI, '--watch', '--events-stdout', '--events-socket', socket, '--timeout-scale', '3', 'vm.test.lua'], {
      cwd: dir,
      reject: false,
      env: { XDG_RUNTIME_DIR: runtime, PROVIUM_RERUN_STATE: path.join(dir, 'rerun.json') },
    });
    const events: RunEvent[] = [];
    let buf = '';
    run.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      events.push(...lines.map((l) => JSON.parse(l) as RunEvent));
    });
    const runs = () => events.filter((e) => e.event === 'run_completed');
    const vms = () => events.filter((e): e is VmSpawned => e.event === 'vm_spawned');
    const vmDirs = () => (existsSync(path.join(runtime, 'provium')) ? readdirSync(path.join(runtime, 'provium')).filter((d) => d.includes('-w-')) : []);

    await expect.poll(() => runs().length, { timeout: 90_000, interval: 200 }).toBe(1);
    expect(runs()[0]).toMatchObject({ passed: 1, exit_code: 0 });
    expect(vms()).toHaveLength(1);
    await expect.poll(() => alive(vms()[0].pid), { timeout: 10_000 }).toBe(false);
    expect(existsSync(path.join(runtime, 'provium'))).toBe(true); // where the VM's run directory was
    expect(vmDirs()).toEqual([]);
    expect(existsSync(socket)).toBe(true); // the socket lives as long as the watch

    writeFileSync(path.join(dir, 'vm.test.lua'), FILE('two'));
    await expect.poll(() => runs().length, { timeout: 90_000, interval: 200 }).toBe(2);
    expect(runs()[1]).toMatchObject({ passed: 1, exit_code: 0 });
    expect(vms()).toHaveLength(2);
    await expect.poll(() => alive(vms()[1].pid), { timeout: 10_000 }).toBe(false);
    expect(vmDirs()).toEqual([]);

    run.kill('SIGINT');
    const done = await run;
    expect(done.exitCode).toBe(130);
    expect(done.stderr).not.toMatch(/internal error/);
    expect(existsSync(socket)).toBe(false);
    expect(vmDirs()).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 240_000);
