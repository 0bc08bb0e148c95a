/**
 * Reaching a guest's agent: the handshake of a booting or restored guest
 * (racing QEMU's death and the test's signal), the load of a restore, and the
 * console report of a handshake that failed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentClient } from '@provium/agent';
import type { QemuProcess, SnapshotTemplate } from '@provium/qemu';
import { traced } from './trace.js';

/** How long a lost agent connection waits for QEMU's exit to explain it (it ends at the exit). */
export const EXIT_REPORT_MS = 2_000;
/** Connections to the agent socket tried while the guest boots (see connectAgent). */
const HANDSHAKE_ATTEMPTS = 3;

/**
 * The operations waiting on each signal: one 'abort' listener per signal
 * rejects them all (a scope's signal is aborted when the scope ends). A
 * listener added and removed per operation cost more than a quick guest op's
 * own way back to Lua.
 */
const waiting = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();

function waitersOf(signal: AbortSignal): Set<(reason: unknown) => void> {
  let set = waiting.get(signal);
  if (set === undefined) {
    const fresh = new Set<(reason: unknown) => void>();
    signal.addEventListener('abort', () => {
      for (const reject of fresh) reject(signal.reason);
      fresh.clear();
    }, { once: true });
    waiting.set(signal, (set = fresh));
  }
  return set;
}

/** `op`, or a rejection with the signal's reason when it aborts first. */
export function unlessAborted<T>(op: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const waiters = waitersOf(signal);
  return new Promise<T>((resolve, reject) => {
    waiters.add(reject);
    op.then(
      (value) => {
        waiters.delete(reject);
        resolve(value);
      },
      (error: unknown) => {
        waiters.delete(reject);
        reject(error);
      },
    );
  });
}

/**
 * The console's last lines for a failed handshake, as QEMU's exit errors give them;
 * an empty console gets a hint instead (a kernel that cannot run under this host's
 * KVM prints nothing at all).
 */
export function consoleReport(tail: readonly string[], accel: string): string {
  if (tail.some((l) => l.trim() !== '')) return ` — last console lines:\n${tail.map((l) => `  | ${l}`).join('\n')}`;
  return ` — the console is empty: the guest printed nothing since QEMU started (accelerator ${accel}; \`provium doctor\` says why it was chosen, PROVIUM_ACCEL=tcg rules KVM out)`;
}

/** Waits for the agent of a booting or restored guest: its handshake, QEMU's death, or `signal`. */
export async function connectAgent(qemu: QemuProcess, label: string, timeoutMs: number, signal: AbortSignal): Promise<AgentClient> {
  const { AgentClient, AgentConnectionLostError } = await import('@provium/agent');
  const deadline = Date.now() + timeoutMs;
  const died = qemu.onExit.then((exit) => {
    throw new Error(`${label} did not boot: ${exit.error.message}`);
  });
  const handshake = async (): Promise<AgentClient> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await AgentClient.connectUnix(qemu.agentSocketPath, { handshakeTimeoutMs: Math.max(1, deadline - Date.now()) });
      } catch (e) {
        // QEMU at times drops a connection made while the guest resets (seen right after
        // system_reset); the agent reopens its port for the next host, so connect again.
        const qemuUp = !qemu.qmp.closed && qemu.exit === undefined;
        if (e instanceof AgentConnectionLostError && qemuUp && !signal.aborted && attempt < HANDSHAKE_ATTEMPTS && Date.now() < deadline) continue;
        // A lost connection usually means QEMU is exiting: its exit (`died`) tells the story better.
        await Promise.race([qemu.onExit, sleep(EXIT_REPORT_MS, undefined, { ref: false })]);
        throw new Error(`${label}: no handshake with the guest agent (${(e as Error).message})${consoleReport(qemu.console.tail(20), qemu.accel)}`);
      }
    }
  };
  return unlessAborted(Promise.race([handshake(), died]), signal);
}

/** Loads the state into a QEMU from launchForRestore, resumes it and returns its agent. `span`: prefix of its trace spans. */
export async function loadAndConnect(qemu: QemuProcess, template: SnapshotTemplate, label: string, timeoutMs: number, signal: AbortSignal, span = ''): Promise<AgentClient> {
  const { finishRestore } = await import('@provium/qemu');
  // Connected while the state loads: the hello waits in the socket and the guest answers as soon as it runs.
  const agent = connectAgent(qemu, label, timeoutMs, signal);
  agent.catch(() => {}); // a failed load kills QEMU, which fails the handshake: the load's error is the one to report
  await traced(`${span}load`, qemu.name, () => finishRestore(qemu, template));
  return traced(`${span}handshake`, qemu.name, () => agent);
}
