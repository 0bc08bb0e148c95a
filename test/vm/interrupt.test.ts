/**
 * Ctrl-C (SIGINT), or the SIGTERM a CI runner's timeout sends, during a run with a VM up:
 * provium exits 130 and leaves no QEMU and no run directory behind.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { defaultRuntimeRoot } from '@provium/qemu';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');

it.each(['SIGINT', 'SIGTERM'] as const)('%s ends the run, its VMs and their run directories', async (signal) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provium-int-'));
  try {
    writeFileSync(path.join(dir, 'long.test.lua'), 'local vm = provium:vm("long", "default"):boot()\ntest("waits", function(t)\n  wait_until(function() return false end, { timeout = "5m", desc = "forever" })\nend)\n');
    const run = execa('node', [CLI, 'test', '--json', '.'], { cwd: dir, reject: false });
    const spawned = await new Promise<{ pid: number }>((resolve, reject) => {
      let out = '';
      run.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.includes('"vm_spawned"'));
        if (line && out.includes('"test_started"')) resolve(JSON.parse(line) as { pid: number });
      });
      void run.then(() => reject(new Error(`provium ended before the VM was up:\n${out}`)));
    });
    const root = defaultRuntimeRoot();
    const runDirs = readdirSync(root).filter((d) => d.includes('-long-')).map((d) => path.join(root, d));
    expect(runDirs.length).toBeGreaterThan(0);
    run.kill(signal);
    const done = await run;
    expect(done.exitCode).toBe(130);
    if (signal === 'SIGTERM') expect(done.stderr).toContain('interrupted (SIGTERM)');
    await expect.poll(() => { try { process.kill(spawned.pid, 0); return 'alive'; } catch { return 'gone'; } }, { timeout: 5000 }).toBe('gone');
    for (const d of runDirs) expect(existsSync(d), d).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
