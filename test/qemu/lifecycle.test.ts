// QMP and VM lifecycle against the real qemu-system-x86_64. No kernel: SeaBIOS
// finds nothing to boot and spins, which is all QMP needs (start ~0.2 s).
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  AGENT_PORT_ID, AGENT_PORT_NAME, QmpCommandError, killAllSync, launchQemu, liveQemuPids, qemuVersion,
  readRecord, type LaunchOptions, type QemuProcess,
} from '../../packages/qemu/src/index.js';
import { driverDist, requireBuiltDriver, tempRoot, watchQemuDeath } from './helpers.js';

const { root, dispose } = tempRoot();
const vms: QemuProcess[] = [];

async function launch(opts: Partial<LaunchOptions> = {}): Promise<QemuProcess> {
  const vm = await launchQemu({ name: 'lc', memoryMiB: 32, runtimeRoot: root, ...opts });
  vms.push(vm);
  return vm;
}

const IS_ROOT = process.getuid?.() === 0;
const NOT_ROOT = 'only root may raise a priority again';
const HAS_AUTOGROUP = existsSync('/proc/self/autogroup');
const NO_AUTOGROUP = 'this kernel has no /proc/<pid>/autogroup (CONFIG_SCHED_AUTOGROUP is off)';
/** The nice values of a process's threads, each once. */
const threadNices = (pid: number) => [...new Set(readdirSync(`/proc/${pid}/task`).map((t) => Number(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ')[16])))];
const autogroupNice = (pid: number) => Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))![1]);

afterEach(async () => {
  await Promise.all(vms.splice(0).map((vm) => vm.kill()));
});
afterAll(dispose);

/** detectAccel() in a fresh process (it caches its answer), PROVIUM_ACCEL set to `forced` or unset. */
function detectAccelIn(forced?: string): string {
  const env = { ...process.env };
  delete env.PROVIUM_ACCEL;
  const code = `import { detectAccel } from ${JSON.stringify(pathToFileURL(driverDist).href)}; process.stdout.write(detectAccel());`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { env: forced ? { ...env, PROVIUM_ACCEL: forced } : env, encoding: 'utf8' });
}

// Which case this host is, read here; the choice for each case is written out by hand.
const cpuVirt = /^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
const kvmOpens = (() => {
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
})();
const HOST_CASE = !kvmOpens ? 'no usable /dev/kvm' : cpuVirt ? 'hardware KVM' : '/dev/kvm without vmx/svm (a paravirtual KVM such as PVM)';
const CHOICE = { 'hardware KVM': 'kvm', '/dev/kvm without vmx/svm (a paravirtual KVM such as PVM)': 'tcg', 'no usable /dev/kvm': 'tcg' } as const;

describe('host facts', () => {
  it('parses the QEMU version', async () => {
    const v = await qemuVersion();
    expect(v.text).toMatch(/^QEMU emulator version /);
    expect(v.major).toBeGreaterThanOrEqual(7);
  });

  it(`picks ${CHOICE[HOST_CASE]} on this host (${HOST_CASE}); PROVIUM_ACCEL=kvm or tcg decides instead`, () => {
    requireBuiltDriver();
    expect(detectAccelIn()).toBe(CHOICE[HOST_CASE]);
    expect(detectAccelIn('kvm')).toBe('kvm');
    expect(detectAccelIn('tcg')).toBe('tcg');
  });
});

describe('QMP', () => {
  it('handshakes, runs commands, reports QMP errors by command name', async () => {
    const vm = await launch();
    expect(vm.qmp.greeting.version.qemu.major).toBe((await qemuVersion()).major);
    expect(await vm.status()).toEqual({ status: 'running', running: true });
    // the launch line really is what QEMU runs
    expect(await vm.qmp.execute('qom-get', { path: `/machine/peripheral/${AGENT_PORT_ID}`, property: 'name' }))
      .toBe(AGENT_PORT_NAME);
    const genid = await vm.qmp.execute<{ guid: string }>('query-vm-generation-id');
    expect(genid.guid).toMatch(/^[0-9a-f-]{36}$/);
    const kvm = await vm.qmp.execute<{ enabled: boolean }>('query-kvm');
    expect(kvm.enabled).toBe(vm.accel === 'kvm');

    const err = await vm.qmp.execute('no-such-command').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpCommandError);
    expect((err as Error).message).toBe('QMP command no-such-command failed: The command no-such-command has not been found');
    // the connection survives an error
    expect((await vm.status()).running).toBe(true);
  });

  it('waitForEvent times out with the event name', async () => {
    const vm = await launch();
    await expect(vm.qmp.waitForEvent('STOP', undefined, 50)).rejects.toThrow('timed out after 50 ms waiting for QMP event STOP');
  });

  it('waitForEvent takes its abort listener back however the wait ends', async () => {
    const vm = await launch();
    const ac = new AbortController();
    const stopped = vm.qmp.waitForEvent('STOP', undefined, 10_000, ac.signal);
    await vm.qmp.execute('stop');
    await stopped;
    await expect(vm.qmp.waitForEvent('STOP', undefined, 50, ac.signal)).rejects.toThrow('timed out');
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    const pending = vm.qmp.waitForEvent('RESUME', undefined, 10_000, ac.signal);
    ac.abort();
    await expect(pending).rejects.toThrow('stopped waiting for QMP event RESUME');
  });
});

describe('lifecycle', () => {
  it('pause and resume, idempotently, with status checks', async () => {
    const vm = await launch();
    const events: string[] = [];
    vm.qmp.on('event', (e) => events.push(e.event));
    await vm.pause();
    expect(await vm.status()).toEqual({ status: 'paused', running: false });
    await vm.pause(); // no STOP comes for a paused VM: must not hang
    await vm.resume();
    expect(await vm.status()).toEqual({ status: 'running', running: true });
    await vm.resume();
    expect(events.filter((e) => e === 'STOP' || e === 'RESUME')).toEqual(['STOP', 'RESUME']);
  });

  it('reset keeps QEMU running despite -no-reboot; power button delivers POWERDOWN', async () => {
    const vm = await launch();
    const events: string[] = [];
    vm.qmp.on('event', (e) => events.push(e.event));
    await vm.reset();
    await vm.reset();
    expect(await vm.status()).toEqual({ status: 'running', running: true });
    await vm.powerButton();
    expect(events).toEqual(['RESET', 'RESET', 'POWERDOWN']);
    expect(vm.exit).toBeUndefined();
  });

  it('shutdown falls back to quit when the guest ignores the power button, and cleans up', async () => {
    const vm = await launch();
    const ramPath = readRecord(vm.runDir)!.ram.path;
    expect(ramPath.startsWith('/dev/shm/')).toBe(true);
    expect(statSync(ramPath).size).toBe(32 * 1024 * 1024);
    const exit = await vm.shutdown({ timeoutMs: 100 });
    expect(exit).toMatchObject({ code: 0, signal: null, expected: true, shutdownReason: 'host-qmp-quit' });
    expect(existsSync(vm.runDir)).toBe(false);
    expect(existsSync(ramPath)).toBe(false);
    expect(liveQemuPids()).not.toContain(vm.pid);
    // operations after the exit fail with the exit
    await expect(vm.status()).rejects.toThrow(`QEMU of VM "lc" exited (code 0, host-qmp-quit)`);
  });

  it('kill is SIGKILL to the process group', async () => {
    const vm = await launch();
    const exit = await vm.kill();
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', expected: true });
    expect(existsSync(vm.runDir)).toBe(false);
  });

  it('starts at a given CPU priority, on every thread', async () => {
    await expect(launch({ nice: 25 })).rejects.toThrow('nice must be an integer from -20 to 19, got 25');
    const vm = await launch({ nice: 19 });
    expect(threadNices(vm.pid)).toEqual([19]);
  });

  it('puts its session\'s autogroup at that priority', async (ctx) => {
    ctx.skip(!HAS_AUTOGROUP, NO_AUTOGROUP);
    const vm = await launch({ nice: 19 });
    expect(autogroupNice(vm.pid)).toBe(19);
  });

  it('renices back, every thread', async (ctx) => {
    ctx.skip(!IS_ROOT, NOT_ROOT);
    const vm = await launch({ nice: 19 });
    vm.renice(0);
    expect(threadNices(vm.pid)).toEqual([0]);
  });

  it('renices back its session\'s autogroup', async (ctx) => {
    ctx.skip(!IS_ROOT, NOT_ROOT);
    ctx.skip(!HAS_AUTOGROUP, NO_AUTOGROUP);
    const vm = await launch({ nice: 19 });
    vm.renice(0);
    expect(autogroupNice(vm.pid)).toBe(0);
  });

  it('gives QEMU\'s malloc huge pages, unless the user set GLIBC_TUNABLES', async () => {
    const tunables = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((v) => v.startsWith('GLIBC_TUNABLES='));
    const saved = process.env.GLIBC_TUNABLES;
    try {
      delete process.env.GLIBC_TUNABLES;
      expect(tunables((await launch()).pid)).toBe('GLIBC_TUNABLES=glibc.malloc.hugetlb=1');
      process.env.GLIBC_TUNABLES = 'glibc.malloc.hugetlb=0';
      expect(tunables((await launch()).pid)).toBe('GLIBC_TUNABLES=glibc.malloc.hugetlb=0');
    } finally {
      if (saved === undefined) delete process.env.GLIBC_TUNABLES;
      else process.env.GLIBC_TUNABLES = saved;
    }
  });

  it('populates the RAM file of a fresh small VM before it runs, not of a big one or a restore', async () => {
    const allocatedMiB = (vm: QemuProcess) => (statSync(vm.machine.ram.path).blocks * 512) / 2 ** 20;
    const fresh = await launch({ startPaused: true });
    expect(fresh.machine.ram.path.startsWith('/dev/shm/')).toBe(true);
    expect(allocatedMiB(fresh)).toBe(32);
    // not populated: at most the few pages QEMU writes while it starts
    expect(allocatedMiB(await launch({ memoryMiB: 520, startPaused: true }))).toBeLessThan(8);
    expect(allocatedMiB(await launch({ incoming: true }))).toBeLessThan(8);
  });

  it('starts paused, or waiting for an incoming migration', async () => {
    const paused = await launch({ startPaused: true });
    expect(await paused.status()).toEqual({ status: 'prelaunch', running: false });
    await paused.resume();
    expect((await paused.status()).running).toBe(true);
    const incoming = await launch({ incoming: true });
    expect((await incoming.status()).status).toBe('inmigrate');
  });

  it('keep leaves the run dir and RAM file for inspection', async () => {
    const vm = await launch({ name: 'kept', keep: true });
    const ram = readRecord(vm.runDir)!.ram.path;
    await vm.kill();
    try {
      expect(readdirSync(vm.runDir).sort()).toEqual(['agent.sock', 'console.log', 'pid', 'qemu.log']);
      expect(existsSync(ram)).toBe(true);
      // killAllSync spares kept dirs; only a sweep after this process is gone removes them
      killAllSync({ runtimeRoots: [root] });
      expect(existsSync(vm.runDir)).toBe(true);
    } finally {
      rmSync(ram, { force: true });
    }
  });

  it('escapes commas in paths given to QEMU options', async () => {
    const commaRoot = join(root, 'a,b');
    const vm = await launch({ name: 'comma', runtimeRoot: commaRoot });
    expect(vm.runDir.startsWith(commaRoot)).toBe(true);
    expect((await vm.status()).running).toBe(true);
  });

  it('copies console and QEMU logs to artifactsDir on exit', async () => {
    const artifacts = join(root, 'artifacts');
    const vm = await launch({ name: 'art', artifactsDir: artifacts, extraArgs: ['-device', 'no-such-device-really'] }).catch(
      (e: unknown) => e as Error,
    );
    // a launch that fails still leaves its logs behind for the post-mortem, and nothing else
    expect((vm as Error).message).toMatch(/QEMU of VM "art" exited \(code 1\)[\s\S]*QEMU stderr:\n {2}\| .*no-such-device-really/);
    expect(readdirSync(artifacts)).toContain('art.qemu.log');
    expect(readFileSync(join(artifacts, 'art.qemu.log'), 'utf8')).toContain("'no-such-device-really' is not a valid device model name");
    expect(readdirSync(root).filter((d) => d.includes('-art-'))).toEqual([]);
  });
});

describe('launch timeout', () => {
  it('kills QEMU and removes the run dir when QEMU is too slow to connect', async () => {
    const before = liveQemuPids();
    await expect(launch({ name: 'slow', launchTimeoutMs: 1 })).rejects.toThrow(
      'QEMU of VM "slow" did not connect its QMP and console sockets within 1 ms',
    );
    expect(liveQemuPids()).toEqual(before);
    expect(readdirSync(root).filter((d) => d.includes('-slow-'))).toEqual([]);
  });
});

describe('bad input', () => {
  it('names the value at fault', async () => {
    await expect(launch({ memoryMiB: 1.5 })).rejects.toThrow('launchQemu (VM "lc"): memoryMiB must be an integer >= 16, got 1.5');
    await expect(launch({ cpus: 0 })).rejects.toThrow('cpus must be an integer from 1 to 255, got 0');
    await expect(launch({ kernel: '/nonexistent/vmlinuz' })).rejects.toThrow('kernel file /nonexistent/vmlinuz does not exist or is not readable');
    await expect(launch({ ram: { path: '/nonexistent/ram', share: false } })).rejects.toThrow(
      'RAM file /nonexistent/ram does not exist (share=false maps an existing template)',
    );
    await expect(launch({ qemuBinary: '/nonexistent/qemu' })).rejects.toThrow('/nonexistent/qemu not found: check the path');
  });
});

describe('killAllSync', () => {
  it('kills every QEMU of this process and removes their run dirs', async () => {
    const a = await launch({ name: 'ka' });
    const b = await launch({ name: 'kb' });
    const aDeath = await watchQemuDeath(a.agentSocketPath, a.pid);
    const killed = killAllSync({ runtimeRoots: [root] });
    expect(killed.sort((x, y) => x - y)).toEqual([a.pid, b.pid].sort((x, y) => x - y));
    expect(existsSync(a.runDir) || existsSync(b.runDir)).toBe(false);
    await aDeath.closed;
    expect((await a.onExit).signal).toBe('SIGKILL');
    expect((await b.onExit).signal).toBe('SIGKILL');
  });
});
