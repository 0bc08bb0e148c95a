/**
 * VMs restored ahead of time for the next restore of a template, per worker thread.
 *
 * A restore's cost under TCG is mostly not the loading: QEMU's start (~0.1 s
 * of its machine set-up) and then translating afresh the guest code that
 * wakes the agent, answers the handshake and starts the first command. After
 * a restore that maps its template privately and has no network, the worker
 * restores another QEMU from the same template and launch options, lets the
 * guest run until its agent has answered the handshake and run one
 * `/bin/sh -c true`, and pauses it there (its vCPU stopped, and with it the
 * guest's clocks). The next restore with the same key takes it and only
 * resumes it and sets its clock; one that asks before the agent has answered
 * takes it as soon as it answers, not warmed up (primeRestored). Tests that
 * resume one fixture again and again
 * (each test afresh) thus skip all of that from the second on, when the spare
 * is ready by then (~0.3 s of CPU after the previous restore); the first
 * resume of a fixture the file names is served by a spare made as the file
 * started (fixture-spares.ts). The guest has
 * run a little more than a freshly restored one before the test sees it: the
 * agent waking, the reaction to its new VM generation id, one process id used.
 *
 * A spare is not a VM of any file: it takes nothing from the pool and is not
 * reported to the main thread until a restore takes it. It dies with its
 * worker thread (setpriv's parent-death signal); the main thread removes its
 * run dir when the run ends (MainHost.close).
 */
import type { AgentClient } from '@provium/agent';
import type { QemuProcess, RestoreLaunchOptions, RestoreMode, SnapshotTemplate } from '@provium/qemu';
import { loadAndConnect } from './agent-connect.js';
import type { DiskHandle } from './disks.js';

/** A restored QEMU whose agent has answered: paused after a first command, or taken before that (`running`). */
export interface Spare {
  qemu: QemuProcess;
  agent: AgentClient;
  /** Its disks' images, made in its QEMU's run dir (they go with it), which the VM that takes it adopts. */
  disks?: readonly DiskHandle[];
  /** True when it was taken before its warm-up paused it: its guest runs. */
  running?: boolean;
}

/** A spare being made (primeRestored). */
export interface Priming {
  /** The spare once its agent has answered; rejects (QEMU killed) when it never does. */
  readonly answered: Promise<Spare>;
  /**
   * Takes it: from now on it is neither warmed up nor paused. Resolves once
   * the agent has answered and a warm-up already running has ended.
   */
  claim(): Promise<Spare>;
}

/** How a spare is made: QEMU started for the restore (at `nice`), then loaded, run to its agent, warmed up and paused. */
export interface SpareMaker {
  launch(nice: number | undefined): Promise<QemuProcess>;
  prime(qemu: QemuProcess): Priming;
}

/**
 * Spares are made at the lowest CPU priority, so that they take only CPU
 * time that VMs in use leave idle; a restore that takes one (or waits for
 * it) sets it back. Only root may raise a priority again: for anyone else
 * spares are made at the normal priority.
 */
let SPARE_NICE = process.getuid?.() === 0 ? 19 : undefined;

/** The priority spares are made at (nice), undefined for the normal one. */
export function spareNice(): number | undefined {
  return SPARE_NICE;
}

/**
 * Sets a spare's QEMU back to the normal priority: from now on it is a VM in
 * use, or one a restore waits for. False when the host refuses (root without
 * CAP_SYS_NICE, in a container): then no more low-priority spares are made.
 */
export function reclaimPriority(qemu: { renice(value: number): void }): boolean {
  if (SPARE_NICE === undefined) return true;
  try {
    qemu.renice(0);
    return true;
  } catch {
    SPARE_NICE = undefined;
    return false;
  }
}

/**
 * Makes a spare of a QEMU from launchForRestore: loads the state, waits for
 * the agent's handshake, runs one `/bin/sh -c true` and pauses the guest.
 * Kills QEMU if it never answers. A spare claimed before its warm-up is
 * neither warmed up nor paused: when a test already waits for it, that
 * command only adds to the wait (the test's own first command does the same
 * translation), and back to back on a busy host the warm-ups of VMs a test
 * never uses are CPU taken from the next spare.
 */
export function primeRestored(qemu: QemuProcess, template: SnapshotTemplate, label: string, timeoutMs: number, disks?: readonly DiskHandle[]): Priming {
  let claimed = false;
  const answered = (async (): Promise<Spare> => {
    try {
      const agent = await loadAndConnect(qemu, template, label, timeoutMs, new AbortController().signal, 'spare ');
      return { qemu, agent, ...(disks && disks.length > 0 ? { disks } : {}) };
    } catch (e) {
      await qemu.kill();
      throw e;
    }
  })();
  // The first process a restored guest starts costs ~0.1 s of translation under TCG: done here
  // while nobody waits. Only an optimization: a guest of the user's own without /bin/sh still
  // gets its spare. Resolves to whether the guest was paused.
  const warmed = answered.then(async ({ agent }) => {
    if (claimed) return false;
    await agent.exec(['/bin/sh', '-c', 'true']).catch(() => {});
    if (claimed) return false;
    await qemu.pause();
    return true;
  });
  warmed.catch(() => {});
  return {
    answered,
    claim: async () => {
      claimed = true;
      const spare = await answered;
      // A pause that failed leaves the guest's state unknown: resuming it is harmless.
      const paused = await warmed.catch(() => true);
      return paused ? spare : { ...spare, running: true };
    },
  };
}

/**
 * Per key, the spare (being) primed and a QEMU started behind it: when the
 * spare is taken, priming the next starts from that QEMU while another starts,
 * so back-to-back restores overlap the QEMU start of one with the priming of
 * another instead of waiting for both in turn.
 */
interface Slot {
  primed?: { qemu: Promise<QemuProcess | undefined>; spare: Promise<Priming | undefined> };
  launched?: Promise<QemuProcess | undefined>;
}

/** Keys with spares kept per worker: a few VMs of a lab restored again and again (reset_between_tests) each get theirs. */
const MAX_KEYS = 4;

/** Oldest key first (a Map iterates in insertion order; a used key is inserted again). */
const slots = new Map<string, Slot>();

/** What a spare must match: the launch line of the restore and the template it maps. */
export function spareKey(template: SnapshotTemplate, opts: RestoreLaunchOptions, mode: RestoreMode): string | undefined {
  // A copy-mode restore copies the RAM at launch; a network's arguments are fresh for every lab copy.
  // Disks: a spare makes images of its own over the template's layers (opts.makeDisks), so `opts` names none.
  if (mode !== 'private' || (opts.extraArgs?.length ?? 0) > 0 || (opts.disks?.length ?? 0) > 0) return undefined;
  return JSON.stringify([template.header.id, template.state, template.ram, opts.name, opts.kernel, opts.initrd, opts.append]);
}

/** The spare for `key` if there is one (waiting for it if it is still being primed), else undefined. */
export async function takeSpare(key: string): Promise<Spare | undefined> {
  const slot = slots.get(key);
  const pending = slot?.primed;
  if (!pending) return undefined;
  slot.primed = undefined;
  const qemu = await pending.qemu;
  if (qemu && !reclaimPriority(qemu)) {
    await pending.spare;
    await qemu.kill();
    return undefined;
  }
  const spare = await (await pending.spare)?.claim().catch(() => undefined);
  if (!spare) return undefined;
  if (spare.qemu.exit === undefined && !spare.qemu.qmp.closed && spare.agent.closedReason === undefined) return spare;
  await spare.qemu.kill();
  return undefined;
}

/** Starts `key`'s spare unless its slot has one (being) made: ahead of a first restore (fixture-spares.ts). */
export function primeSpare(key: string, maker: SpareMaker): void {
  if (!slots.get(key)?.primed) startSpare(key, maker);
}

/** Fills `key`'s slot: a spare being primed and a QEMU started behind it. Failures only mean there is none. */
export function startSpare(key: string, maker: SpareMaker): void {
  let slot = slots.get(key);
  if (slot) {
    slots.delete(key);
  } else if (slots.size >= MAX_KEYS) {
    const [oldest, old] = slots.entries().next().value as [string, Slot];
    slots.delete(oldest);
    void old.primed?.qemu.then((q) => q?.kill());
    void old.launched?.then((q) => q?.kill());
  }
  slots.set(key, (slot ??= {}));
  if (!slot.primed) {
    const launched = slot.launched;
    slot.launched = undefined;
    const qemu = (async () => (await launched) ?? (await maker.launch(SPARE_NICE)))().catch(() => undefined);
    const spare = qemu.then((q) => (q ? maker.prime(q) : undefined)).catch(() => undefined);
    slot.primed = { qemu, spare };
  }
  slot.launched ??= maker.launch(SPARE_NICE).catch(() => undefined);
}
