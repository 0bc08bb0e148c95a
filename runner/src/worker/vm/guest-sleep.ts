/**
 * A guest that suspends itself to RAM (ACPI S3, `echo mem >
 * /sys/power/state`), and `vm:wakeup()`. QEMU tells: SUSPEND when the guest
 * enters S3 (status "suspended"), WAKEUP after system_wakeup. The agent
 * sleeps with the rest of the guest: on the way down the guest's
 * virtio-serial driver resets the device, which closes the agent's port, and
 * on resume it opens it again. The host's connection to the port stays up
 * across both, and the agent process never noticed, so nothing reconnects.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentClient } from '@provium/agent';
import type { QemuExit, QemuProcess } from '@provium/qemu';
import { EXIT_REPORT_MS, consoleReport } from './agent-connect.js';
import type { KernelFormat } from './kernel-format.js';

export class GuestSleep {
  /** SUSPEND events so far: an agent port that closed before one of them closed for the suspend. */
  suspends = 0;
  /** Between SUSPEND and WAKEUP (or a reset). */
  asleep = false;

  constructor(qemu: QemuProcess) {
    qemu.qmp.on('event', (ev) => {
      if (ev.event === 'SUSPEND') {
        this.suspends++;
        this.asleep = true;
      } else if (ev.event === 'WAKEUP' || ev.event === 'RESET') {
        this.asleep = false;
      }
    });
  }

  /** What a guest operation raises while the guest sleeps. */
  asleepError(label: string): Error {
    return new Error(`${label}: the guest is suspended to RAM (it suspended itself): call vm:wakeup() first`);
  }
}

/** Why a wakeup ended in QEMU's exit: a PVH-booted kernel resets where it should resume. */
function resetError(label: string, exit: QemuExit, format: KernelFormat, accel: string): Error {
  const how = exit.shutdownReason ?? exit.error.message;
  if (format === 'pvh') {
    return new Error(
      `${label} reset instead of resuming from suspend to RAM (QEMU ended: ${how}): a kernel booted as a PVH ELF vmlinux, as the built-in profiles boot it by default, cannot resume from S3. ` +
        'Create the VM with kernel_format = "bzimage" (provium:vm(name, profile, { kernel_format = "bzimage" })): it boots the same kernel as a bzImage, which resumes',
    );
  }
  return new Error(`${label} did not resume from suspend to RAM: QEMU ended (${how})${consoleReport(exit.consoleTail, accel)}`);
}

/**
 * `vm:wakeup()` on a VM that runs: wakes a guest that is suspended and waits
 * until its agent answers; does nothing to an awake guest.
 */
export async function wakeGuest(qemu: QemuProcess, agent: AgentClient, label: string, format: KernelFormat, timeoutMs: number): Promise<void> {
  if ((await qemu.status()).status !== 'suspended') return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  late.catch(() => {}); // raced below; handled even while system_wakeup itself is still waited for
  try {
    // A PVH-booted guest resets at once: QEMU may be gone before system_wakeup's own answer is read.
    await qemu.wakeup();
    await Promise.race([agent.ping(), late]);
  } catch (e) {
    // A guest that reset ends QEMU (-no-reboot); the lost connection comes first. When the
    // connection is gone QEMU is on its way out, which on a loaded host can take longer than
    // EXIT_REPORT_MS: wait for the exit up to the wakeup's own timeout.
    const gone = agent.closedReason !== undefined || qemu.qmp.closed;
    const bound = gone ? late.catch(() => undefined) : sleep(EXIT_REPORT_MS, undefined, { ref: false });
    const exit = qemu.exit ?? (await Promise.race([qemu.onExit, bound]));
    if (exit) throw resetError(label, exit, format, qemu.accel);
    throw new Error(`${label}: the guest's agent did not answer after vm:wakeup() (${(e as Error).message})${consoleReport(qemu.console.tail(20), qemu.accel)}`);
  } finally {
    clearTimeout(timer);
  }
}
