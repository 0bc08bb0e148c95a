/**
 * The maker that restores, primes and parks spares of a snapshot ahead of
 * the VMs that will restore it (spares.ts; the launch line a spare must
 * match is kernel-format.ts's restoreLaunchOptions). Values only, no
 * session: a spare outlives the file that made it.
 */
import type { QemuProcess, RestoreLaunchOptions, RestoreMode, SnapshotTemplate } from '@provium/qemu';
import type { PreparedProfile, SnapshotTemplateInfo } from '@provium/types';
import { restoreImages } from './disk-set.js';
import type { DiskHandle } from './disks.js';
import { primeRestored, type SpareMaker } from './spares.js';
import { traced } from './trace.js';

/**
 * Each spare QEMU's disk images, made in its run dir: no VM owns them until
 * one takes the spare. Kept here, not per SpareMaker: a spare is primed by
 * the maker of a later restore than the one that launched its QEMU.
 */
const spareDisks = new WeakMap<QemuProcess, DiskHandle[]>();

/**
 * Makes spares for the next restores of `template` (spares.ts): restored,
 * handshaken, warmed up, paused (unless taken first).
 */
export function restoreSpareMaker(label: string, timeoutMs: number, template: SnapshotTemplate, opts: RestoreLaunchOptions, mode: RestoreMode, layers: NonNullable<SnapshotTemplateInfo['disks']>, profileDisk: PreparedProfile['disk']): SpareMaker {
  return {
    launch: async (nice) => {
      let handles: DiskHandle[] = [];
      const makeDisks = async (runDir: string) => (handles = await restoreImages(label, layers, profileDisk, runDir)).map((h) => h.attachment);
      const { launchForRestore } = await import('@provium/qemu');
      const qemu = await traced('spare qemu start', opts.name, () => launchForRestore(template, { ...opts, ...(nice === undefined ? {} : { nice }), ...(layers.length > 0 ? { makeDisks } : {}) }, mode));
      spareDisks.set(qemu, handles);
      return qemu;
    },
    prime: (qemu) => primeRestored(qemu, template, label, timeoutMs, spareDisks.get(qemu)),
  };
}
