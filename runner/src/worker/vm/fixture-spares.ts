/**
 * Spares made as a test file starts, of the fixtures it names literally that
 * the fixture cache holds (the main thread knows them from the fixture graph
 * and looked them up while the workers started): made while the file's Lua
 * loads and its earlier tests run, the file's first resume of each takes one
 * (spares.ts, lab-spares.ts) instead of restoring afresh, like every later
 * resume. A file that never gets to the resume leaves its spare to the
 * worker's next files; it dies with the worker thread. Files of fixture
 * builders and files that set reset_between_tests restore into a copy of
 * the RAM, which no spare serves: theirs stays unused.
 */
import path from 'node:path';
import type { FixtureEntry, HostServices } from '@provium/types';
import { keepSpareLab } from './lab-spares.js';
import { primeRestoreSpare, restoreRecord } from './restore-launch.js';
import { readLabIndex } from './snapshots.js';
import { BOOT_TIMEOUT_MS } from './vm-life.js';

/** The start of the spares of the worker's current file (one file at a time per worker). */
let starting: Promise<void> = Promise.resolve();

/** Starts the spares of `file`'s cached fixtures; failures only mean there are none (the resume reports its own). */
export function primeFixtureSpares(host: HostServices, file: string, timeoutScale: number): void {
  starting = (async () => {
    const entries = await host.cachedFixtures(file);
    await Promise.all(entries.map((entry) => (entry.kind === 'vm' ? primeVm(host, entry, timeoutScale) : primeLab(host, entry, timeoutScale))));
  })().catch(() => {});
}

/**
 * Resolves once the current file's spares are started (or known not to
 * be): a resume that asked before waits for it, then takes the spare
 * (waiting for it to be ready) rather than restoring beside it.
 */
export function fileSparesStarted(): Promise<void> {
  return starting;
}

async function primeVm(host: HostServices, entry: FixtureEntry, timeoutScale: number): Promise<void> {
  const snap = await host.snapshotTemplate(entry.path);
  const name = String(snap.header.vm.name);
  primeRestoreSpare(name, await restoreRecord(`vm "${name}"`, snap, host), snap, BOOT_TIMEOUT_MS * timeoutScale);
}

/** As the file's first lab_fixture of `entry` would after its restore (lab.ts): the spare lab its resume takes. */
async function primeLab(host: HostServices, entry: FixtureEntry, timeoutScale: number): Promise<void> {
  const index = readLabIndex(entry.path);
  const templates = await Promise.all(index.vms.map((v) => host.snapshotTemplate(path.join(entry.path, v.file))));
  await keepSpareLab({ key: entry.path, copyLabel: entry.name.split('/').pop()!, spare: undefined }, index, templates, host, timeoutScale);
}
