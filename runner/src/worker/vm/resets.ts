/**
 * `provium.reset_between_tests = true`: the lab is snapshotted after the
 * top-level code and restored before every test after the first. Restores
 * map the snapshot privately: they are never snapshotted again.
 */
import type { FileServices } from '../binding/registry.js';
import type { Lab } from './lab.js';
import { freshTempPath, type LabSnapshotHandle } from './snapshots.js';

/** Files whose top-level code set `provium.reset_between_tests = true`. */
export const resetBetweenTests = new WeakSet<FileServices>();

/** Turns the resets of the file on or off (the setting may change while the top-level code runs). */
export function setResetBetweenTests(lab: Lab, services: FileServices, on: boolean): void {
  if (services.testName !== undefined) throw new Error('provium.reset_between_tests is a file setting: set it in top-level code, not inside a test');
  if (on) resetBetweenTests.add(services);
  else resetBetweenTests.delete(services);
  if (!on) return services.setFileHooks(undefined);
  let snap: LabSnapshotHandle | undefined;
  services.setFileHooks({
    afterTopLevel: async () => {
      // A lab with bridges alone is reset too: its impairments and graph state go back.
      if (lab.bridges.size > 0 || lab.allVms().some((v) => v.session.state === 'booted' || v.session.state === 'paused')) snap = await lab.snapshot(freshTempPath(services, 'reset', ''));
    },
    beforeTest: async (index) => {
      if (index > 0 && snap) await lab.restore(snap.dir, new AbortController().signal, 'private');
    },
  });
}
