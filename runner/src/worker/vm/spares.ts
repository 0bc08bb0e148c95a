/**
 * QEMUs started ahead of time for the next restore, per worker thread.
 *
 * Starting QEMU costs a restore ~0.1 s under TCG (dynamic linking and
 * machine set-up); an idle spare holds ~15 MB. After a restore that maps its
 * template privately and has no network, the worker starts another QEMU for
 * the same template and launch options; it waits in `-incoming defer`
 * (nothing loaded, no vCPU running, its RAM mapping untouched) until the next
 * restore with the same key takes it. Tests that resume one fixture again
 * and again (each test afresh) thus skip QEMU's start-up from the second on.
 *
 * A spare is not a VM of any file: it takes nothing from the pool and is not
 * reported to the main thread until a restore takes it. It dies with its
 * worker thread (setpriv's parent-death signal); the main thread removes its
 * run dir when the run ends (MainHost.close).
 */
import type { QemuProcess, RestoreLaunchOptions, RestoreMode, SnapshotTemplate } from '@provium/qemu';

/** Spares kept per worker: a few VMs of a lab restored again and again (reset_between_tests) each get one. */
const MAX_SPARES = 4;

const spares = new Map<string, Promise<QemuProcess | undefined>>();

/** What a spare must match: the launch line of the restore and the template it maps. */
export function spareKey(template: SnapshotTemplate, opts: RestoreLaunchOptions, mode: RestoreMode): string | undefined {
  // A copy-mode restore copies the RAM at launch; a network's arguments are fresh for every lab copy.
  if (mode !== 'private' || (opts.extraArgs?.length ?? 0) > 0) return undefined;
  return JSON.stringify([template.header.id, template.state, template.ram, opts.name, opts.kernel, opts.initrd, opts.append]);
}

/** The spare for `key` if one is up (waiting for it if it is still starting), else undefined. */
export async function takeSpare(key: string): Promise<QemuProcess | undefined> {
  const spare = spares.get(key);
  if (!spare) return undefined;
  spares.delete(key);
  const qemu = await spare;
  return qemu && qemu.exit === undefined && !qemu.qmp.closed ? qemu : undefined;
}

/** Starts a spare for `key` unless there is one; `launch` failing only means there is none. */
export function startSpare(key: string, launch: () => Promise<QemuProcess>): void {
  if (spares.has(key)) return;
  if (spares.size >= MAX_SPARES) {
    const [oldest, old] = spares.entries().next().value as [string, Promise<QemuProcess | undefined>];
    spares.delete(oldest);
    void old.then((q) => q?.kill());
  }
  spares.set(key, launch().catch(() => undefined));
}
