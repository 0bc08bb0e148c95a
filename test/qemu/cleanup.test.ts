// Nothing outlives provium: stale run dir sweep, pdeathsig, process groups
// and Ctrl-C, worker threads. Child processes and workers run the built driver.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  QEMU_BINARY, isProcessAlive, killAllSync, procStat, readRecord, sweepStaleRunDirs, type RunDirRecord,
} from '../../packages/qemu/src/index.js';
import { driverDist, fixtures, requireBuiltDriver, tempRoot, watchQemuDeath } from './helpers.js';

const { root, dispose } = tempRoot();
beforeAll(requireBuiltDriver);
afterAll(dispose);

interface Launched {
  pid: number;
  runDir: string;
  agentSocketPath: string;
}

/** The pid of a process that has certainly exited. */
async function deadPid(): Promise<number> {
  const p = spawn('true');
  await new Promise((resolve) => p.once('exit', resolve));
  return p.pid!;
}

function fakeRunDir(name: string, record: Omit<RunDirRecord, 'version' | 'name' | 'keep'> & { keep?: boolean }): string {
  const dir = join(root, `${record.owner.pid}-${name}-x`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'qmp.sock'), '');
  writeFileSync(join(dir, 'pid'), JSON.stringify({ version: 1, name, keep: false, ...record }));
  return dir;
}

function firstLine(child: ChildProcess): Promise<Launched> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as Launched);
    });
    child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before launching: ${err}`)));
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('sweepStaleRunDirs', () => {
  it('removes dirs of dead or reused owner pids, with their RAM files, and leaves live owners alone', async () => {
    const dead = await deadPid();
    const ram = `/dev/shm/provium-test-sweep-${process.pid}.ram`;
    writeFileSync(ram, 'x');
    const deadOwner = fakeRunDir('dead', { owner: { pid: dead, start: '1', threadId: 0 }, ram: { path: ram, owned: true }, keep: true });
    const noRecord = join(root, `${dead}-norecord-x`);
    mkdirSync(noRecord);
    const me = { pid: process.pid, start: procStat(process.pid)!.startTime, threadId: 0 };
    const live = fakeRunDir('live', { owner: me, ram: { path: join(root, 'unused'), owned: false } });
    // same pid as a live process but another start time: the pid was reused
    const reused = join(root, `${process.pid}-reused-y`);
    mkdirSync(reused);
    writeFileSync(join(reused, 'pid'), JSON.stringify({ version: 1, name: 'reused', keep: false, owner: { ...me, start: '1' }, ram: { path: join(root, 'unused'), owned: false } }));

    const result = sweepStaleRunDirs(root);
    expect(result.removed.sort()).toEqual([deadOwner, noRecord, reused].sort());
    expect(result.killedQemuPids).toEqual([]);
    expect(existsSync(ram)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(readdirSync(root)).toContain(live.slice(root.length + 1));
  });

  it('removes RAM files on /dev/shm of dead owners even when their run dir is gone', async () => {
    const orphan = `/dev/shm/provium-${await deadPid()}-gone-abcdef.ram`;
    const mine = `/dev/shm/provium-${process.pid}-mine-abcdef.ram`;
    writeFileSync(orphan, 'x');
    writeFileSync(mine, 'x');
    try {
      sweepStaleRunDirs(root);
      expect(existsSync(orphan)).toBe(false); // (a sweep in a parallel test file may have been first)
      expect(existsSync(mine)).toBe(true);
    } finally {
      rmSync(mine, { force: true });
    }
  });

  it('kills the QEMU that outlived its owner', async () => {
    // A QEMU without pdeathsig, as if its owner had died before setting it.
    const qemu = spawn(QEMU_BINARY, ['-nodefaults', '-no-user-config', '-display', 'none', '-S'], { detached: true, stdio: 'ignore' });
    const qemuExit = exitOf(qemu);
    await new Promise((resolve) => qemu.once('spawn', resolve));
    const pid = qemu.pid!;
    const dir = fakeRunDir('orphan', {
      owner: { pid: await deadPid(), start: '1', threadId: 0 },
      qemu: { pid, start: procStat(pid)!.startTime },
      ram: { path: join(root, 'none'), owned: true },
    });
    const result = sweepStaleRunDirs(root);
    expect(result).toMatchObject({ removed: [dir], killedQemuPids: [pid] });
    expect(await qemuExit).toEqual({ code: null, signal: 'SIGKILL' });
  });
});

describe('no orphans', () => {
  it('QEMU dies with a SIGKILLed provium (pdeathsig); the next sweep removes the run dir and RAM file', async () => {
    const child = spawn(process.execPath, [join(fixtures, 'launch-child.mjs'), driverDist, root], { stdio: ['ignore', 'pipe', 'pipe'] });
    const vm = await firstLine(child);
    const ram = readRecord(vm.runDir)!.ram.path;
    const death = await watchQemuDeath(vm.agentSocketPath, vm.pid);
    child.kill('SIGKILL');
    await death.closed;
    expect(isProcessAlive(vm.pid)).toBe(false);
    expect(existsSync(vm.runDir)).toBe(true); // its owner could not clean up
    expect(sweepStaleRunDirs(root)).toMatchObject({ removed: [vm.runDir], killedQemuPids: [] });
    expect(existsSync(ram)).toBe(false);
  });

  it('Ctrl-C: SIGINT to provium\'s process group misses QEMU; the cleanup handler kills it', async () => {
    // detached: the child leads its own process group, like provium in a terminal
    const child = spawn(process.execPath, [join(fixtures, 'launch-child.mjs'), driverDist, root, '--cleanup-handlers'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const childExit = exitOf(child);
    const vm = await firstLine(child);
    const qemu = procStat(vm.pid)!;
    expect(procStat(child.pid!)!.pgid).toBe(child.pid);
    // QEMU leads a session and group of its own: kill(-group of provium) cannot reach it
    expect(qemu.pgid).toBe(vm.pid);
    expect(qemu.sid).toBe(vm.pid);
    const death = await watchQemuDeath(vm.agentSocketPath, vm.pid);
    process.kill(-child.pid!, 'SIGINT');
    expect(await childExit).toEqual({ code: null, signal: 'SIGINT' }); // cleaned up, then died of the re-raised signal
    await death.closed;
    expect(isProcessAlive(vm.pid)).toBe(false);
    expect(existsSync(vm.runDir)).toBe(false);
  });

  it('QEMU launched from a worker thread dies with that thread (pdeathsig is per thread)', async () => {
    const worker = new Worker(join(fixtures, 'launch-worker.mjs'), { workerData: { driver: driverDist, runtimeRoot: root } });
    const vm = await new Promise<Launched>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const death = await watchQemuDeath(vm.agentSocketPath, vm.pid);
    const workerThreadId = worker.threadId;
    await worker.terminate();
    await death.closed;
    expect(isProcessAlive(vm.pid)).toBe(false);
    // the owner process lives, so a sweep keeps the dir; killAllSync for that thread removes it
    expect(sweepStaleRunDirs(root).removed).toEqual([]);
    expect(killAllSync({ threadId: workerThreadId, runtimeRoots: [root] })).toEqual([]);
    expect(existsSync(vm.runDir)).toBe(false);
  });
});
