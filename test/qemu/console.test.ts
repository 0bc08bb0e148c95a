// Console I/O, unexpected death and RAM files, with a real guest program: a
// boot sector (fixtures/serial-echo.S) that SeaBIOS loads from an IDE disk.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QemuExitedError, launchQemu, readRecord, type LaunchOptions, type QemuExit, type QemuProcess } from '../../packages/qemu/src/index.js';
import { consoleOutput, echoDiskArgs, tempRoot } from './helpers.js';

const { root, dispose } = tempRoot();
let echoDisk: string[];
const vms: QemuProcess[] = [];

async function launchEcho(opts: Partial<LaunchOptions> = {}): Promise<QemuProcess> {
  const vm = await launchQemu({ name: 'echo', memoryMiB: 32, runtimeRoot: root, extraArgs: echoDisk, ...opts });
  vms.push(vm);
  return vm;
}

beforeAll(() => {
  echoDisk = echoDiskArgs(root);
});
afterEach(async () => {
  await Promise.all(vms.splice(0).map((vm) => vm.kill()));
});
afterAll(dispose);

describe('console', () => {
  it('streams guest output live, logs it, and types into the guest', async () => {
    const vm = await launchEcho();
    await consoleOutput(vm.console, 'provium-echo ready\r\n');
    await vm.console.write('hello, guest\n');
    await consoleOutput(vm.console, 'HELLO, GUEST\n'); // upper-cased: it went through the guest
    expect(vm.console.readLog()).toBe('provium-echo ready\r\nHELLO, GUEST\n');
    expect(vm.console.tail(1)).toEqual(['HELLO, GUEST']);
    expect(vm.consoleLogPath).toBe(join(vm.runDir, 'console.log'));
  });
});

describe('unexpected death', () => {
  it('kill -9 behind the driver: exit event with console tail, pending operations rejected', async () => {
    const vm = await launchEcho();
    await consoleOutput(vm.console, 'ready');
    const exitEvent = new Promise<QemuExit>((resolve) => vm.once('exit', resolve));
    // Freeze QEMU so the command and the pause below are certainly pending, then kill it.
    process.kill(vm.pid, 'SIGSTOP');
    const pending = vm.qmp.execute('query-status').catch((e: unknown) => e);
    const pendingPause = vm.pause().catch((e: unknown) => e);
    process.kill(vm.pid, 'SIGKILL');

    const exit = await exitEvent;
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', expected: false, consoleTail: ['provium-echo ready'] });
    expect(exit.error.message).toBe('QEMU of VM "echo" exited (signal SIGKILL) — last console lines:\n  | provium-echo ready');
    for (const err of [await pending, await pendingPause]) {
      expect(err).toBeInstanceOf(QemuExitedError);
      expect((err as Error).message).toBe(exit.error.message);
    }
    await expect(vm.console.write('x')).rejects.toThrow('console is closed: QEMU has exited');
    expect(existsSync(vm.runDir)).toBe(false);
  });
});

describe('RAM backend', () => {
  it('shared RAM reaches the file; a private mapping of a template leaves it untouched', async () => {
    const diskPath = echoDisk[1]!.split(',')[0]!.slice('file='.length);
    const sector = readFileSync(diskPath);
    const builder = await launchEcho({ name: 'builder' });
    await consoleOutput(builder.console, 'ready');
    await builder.pause();
    const template = readRecord(builder.runDir)!.ram.path;
    // SeaBIOS loaded the boot sector at 0x7c00 of guest RAM, which is the file.
    expect(readFileSync(template).subarray(0x7c00, 0x7e00)).toEqual(sector);

    // Another guest on a private mapping of that file boots a different sector.
    const other = Buffer.from(sector);
    other.write('PROVIUM-ECHO', sector.indexOf('provium-echo'), 'latin1');
    const otherDisk = join(root, 'other.img');
    writeFileSync(otherDisk, other);
    const restored = await launchEcho({
      name: 'private',
      ram: { path: template, share: false },
      extraArgs: ['-drive', `file=${otherDisk},format=raw,if=ide`],
    });
    await consoleOutput(restored.console, 'PROVIUM-ECHO ready');
    await restored.kill();
    expect(existsSync(template)).toBe(true); // the caller's file is never deleted
    expect(readFileSync(template).subarray(0x7c00, 0x7e00)).toEqual(sector);
  });

  it('refuses a template whose size does not match the memory', async () => {
    const bad = join(root, 'small.ram');
    copyFileSync(echoDisk[1]!.split(',')[0]!.slice('file='.length), bad);
    await expect(launchEcho({ ram: { path: bad, share: false } })).rejects.toThrow(
      `RAM file ${bad} holds 512 bytes but the VM has 32 MiB (33554432 bytes)`,
    );
  });
});
