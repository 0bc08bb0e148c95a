/**
 * `Snapshot` and `LabSnapshot`: thin handles over a file and a directory
 * (snapshot-reference.txt). They hold no guest state, so a snapshot written
 * by one process can be restored by a later one. Temporary snapshots
 * (`vm:snapshot()` without a path) go to a directory of the test file that is
 * deleted when the file ends; a fixture builder writes to a directory the
 * main thread keeps, to install the result in the cache.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FileServices } from '../binding/registry.js';
import { networkFromJson, networkToJson, type SnapshotNetwork } from './lab-network-json.js';

export class SnapshotHandle {
  constructor(readonly file: string) {}

  size(): number {
    try {
      return statSync(this.file).size;
    } catch {
      return 0;
    }
  }

  delete(): void {
    rmSync(this.file, { force: true });
  }
}

export class LabSnapshotHandle {
  constructor(readonly dir: string) {}

  /** Sum of the files directly in the directory (not recursive); 0 once gone. */
  size(): number {
    let entries: string[];
    try {
      entries = readdirSync(this.dir);
    } catch {
      return 0;
    }
    let total = 0;
    for (const e of entries) {
      try {
        const st = statSync(path.join(this.dir, e));
        if (st.isFile()) total += st.size;
      } catch {
        // removed meanwhile
      }
    }
    return total;
  }

  delete(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * `lab.json`: what a LabSnapshot holds besides its per-VM files (paths
 * relative to the directory): each VM's profile and resources, and the
 * network — bridges, attachments (NICs with MAC, PCI slot, address),
 * impairments and graph state — with ids relative to the lab
 * (lab-network-json.ts). A snapshot of a lab with bridges and no running VM
 * has no VMs.
 */
export interface LabIndex {
  format: 1;
  vms: { name: string; file: string; profile: string; memory: number; cpus: number }[];
  network?: SnapshotNetwork;
}

export const LAB_INDEX = 'lab.json';

export function writeLabIndex(dir: string, index: LabIndex): void {
  const tmp = path.join(dir, `.${LAB_INDEX}.partial`);
  const json = { ...index, ...(index.network ? { network: networkToJson(index.network) } : {}) };
  writeFileSync(tmp, JSON.stringify(json, null, 2) + '\n');
  renameSync(tmp, path.join(dir, LAB_INDEX));
}

export function readLabIndex(dir: string): LabIndex {
  const file = path.join(dir, LAB_INDEX);
  let index: Omit<LabIndex, 'network'> & { network?: unknown };
  try {
    index = JSON.parse(readFileSync(file, 'utf8')) as typeof index;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : `it is not valid JSON (${(e as Error).message})`;
    throw new Error(`${dir} is not a lab snapshot: cannot read ${LAB_INDEX}: ${why}`);
  }
  if (index.format !== 1 || !Array.isArray(index.vms)) throw new Error(`${file}: unknown lab snapshot format; take the snapshot again`);
  for (const vm of index.vms) {
    if (path.isAbsolute(vm.file) || vm.file.includes('..')) throw new Error(`${file}: VM "${vm.name}" has a path outside the snapshot directory: ${vm.file}`);
  }
  const { network, ...rest } = index;
  return { ...rest, ...(network === undefined ? {} : { network: networkFromJson(network, file) }) };
}

const tempDirs = new WeakMap<FileServices, string>();

/** Whether `out` is a fixture build's snapshot (in its snapshot dir): one prepared and stored for the cache. */
export function forFixtureCache(services: FileServices, out: string): boolean {
  const fixture = services.task.fixture;
  return fixture !== undefined && path.dirname(out) === path.resolve(fixture.snapshotDir);
}

/** The file's directory for temporary snapshots, created on first use. */
export function snapshotTempDir(services: FileServices): string {
  const fixture = services.task.fixture;
  if (fixture) {
    mkdirSync(fixture.snapshotDir, { recursive: true });
    return fixture.snapshotDir;
  }
  let dir = tempDirs.get(services);
  if (!dir) {
    dir = mkdtempSync(path.join(tmpdir(), 'provium-snapshots-'));
    tempDirs.set(services, dir);
    const d = dir;
    // Temporary snapshots are big: they live as long as the test file.
    services.onFileEnd(() => rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}

/** A fresh path in the temp dir: `<vm>-<n>.snap` or `lab-<n>/`. */
export function freshTempPath(services: FileServices, stem: string, ext: string): string {
  const dir = snapshotTempDir(services);
  for (let n = 1; ; n++) {
    const p = path.join(dir, `${stem}-${n}${ext}`);
    try {
      statSync(p);
    } catch {
      return p;
    }
  }
}
