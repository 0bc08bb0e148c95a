// The real guest: the default image's kernel and busybox (packages/image),
// built into the Provium cache on first use. Under TCG each boot takes ~4 s.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { prepareDefaultImage, type DefaultImage } from '../../packages/image/src/index.js';
import { launchQemu, type QemuProcess } from '../../packages/qemu/src/index.js';
import { consoleOutput, tempRoot } from './helpers.js';

const { root, dispose } = tempRoot();
let image: DefaultImage;
let vm: QemuProcess | undefined;

beforeAll(async () => {
  image = await prepareDefaultImage();
}, 600_000);
afterEach(async () => {
  await vm?.kill();
});
afterAll(dispose);

describe('default image', () => {
  it('boots, answers on the serial shell, survives a reset, powers off at the power button', async () => {
    vm = await launchQemu({
      name: 'boot', memoryMiB: 256, runtimeRoot: root, kernel: image.kernel, initrd: image.initrd, append: image.cmdline,
    });
    await consoleOutput(vm.console, 'provium-agent: ready');
    await vm.console.write('echo sum=$((6*7))\n');
    await consoleOutput(vm.console, 'sum=42');

    // A reset reboots the guest (SeaBIOS adds a reboot of its own, which must not end QEMU).
    const before = vm.console.readLog().length;
    const reset = vm.reset();
    // Fault injection: the old guest's agent opening its port late, as under load, just as the
    // reset is asked for; only a port opened after the reset may end the firmware's reboots.
    vm.qmp.emit('event', { event: 'VSERPORT_CHANGE', data: { id: 'agent-port', open: true }, timestamp: { seconds: 0, microseconds: 0 } });
    await reset;
    await consoleOutput(vm.console, 'provium-agent: ready', before);
    expect(vm.exit).toBeUndefined();

    // The guest's acpid turns the power button into poweroff.
    const exit = await vm.shutdown({ timeoutMs: 60_000 });
    expect(exit).toMatchObject({ code: 0, signal: null, expected: true, shutdownReason: 'guest-shutdown' });
  }, 180_000);

  it('a reboot from inside the guest ends QEMU (-no-reboot), with the console tail', async () => {
    vm = await launchQemu({
      name: 'reboot', memoryMiB: 256, runtimeRoot: root, kernel: image.kernel, initrd: image.initrd, append: image.cmdline,
    });
    await consoleOutput(vm.console, 'provium-agent: ready');
    await vm.console.write('reboot\n');
    const exit = await vm.onExit;
    expect(exit).toMatchObject({ code: 0, expected: false, shutdownReason: 'guest-reset' });
    expect(exit.error.message).toMatch(/^QEMU of VM "reboot" exited \(code 0, guest-reset\) — last console lines:\n[\s\S]*reboot: Restarting system$/);
  }, 180_000);
});
