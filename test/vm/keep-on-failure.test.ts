/**
 * --keep-on-failure and provium shell, for real: a failing file's VM stays up
 * after the run, a shell reaches it through the agent, Ctrl-C ends it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');

it('keeps the VMs of a failed file until Ctrl-C, reachable with provium shell', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'provium-keep-'));
  try {
    writeFileSync(path.join(dir, 'broken.test.lua'), 'local vm = provium:vm("kept", "default"):boot()\ntest("fails", function(t)\n  vm:write_file("/tmp/state", "left behind")\n  t:fail("on purpose")\nend)\n');
    const run = execa('node', [CLI, 'test', '--keep-on-failure', '.'], { cwd: dir, reject: false, env: { NO_COLOR: '1' } });
    let stderr = '';
    const shellLine = await new Promise<string>((resolve, reject) => {
      run.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /shell: {3}npx provium shell (\S+)/.exec(stderr);
        if (m && stderr.includes('Press Ctrl-C')) resolve(m[1]);
      });
      void run.then(() => reject(new Error(`provium exited without keeping the VM:\n${stderr}`)));
    });
    const pid = Number(/QEMU pid (\d+)/.exec(stderr)![1]);
    const shell = await execa('node', [CLI, 'shell', shellLine], { input: 'cat /tmp/state; echo; hostname; exit 3\n', reject: false });
    expect(shell.stdout).toContain('left behind');
    expect(shell.stdout).toContain('kept');
    expect(shell.exitCode).toBe(3);
    expect(() => process.kill(pid, 0)).not.toThrow(); // still running after the shell
    run.kill('SIGINT');
    const done = await run;
    expect(done.exitCode).toBe(1); // the run's own status: a test failed
    expect(done.stdout).toMatch(/0 passed, 1 failed, 0 skipped$/);
    // SIGKILLed on the way out; the kernel reaps it a moment later.
    await expect.poll(() => { try { process.kill(pid, 0); return 'alive'; } catch { return 'gone'; } }, { timeout: 5000 }).toBe('gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

it('provium shell names the socket it cannot reach', async () => {
  const r = await execa('node', [CLI, 'shell', '/nonexistent/agent.sock'], { reject: false });
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain('cannot reach a guest agent at /nonexistent/agent.sock');
});
