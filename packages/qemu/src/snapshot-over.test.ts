// A RAM section stored over another snapshot's (a fixture built on another), with the real qemu-img and
// zstd on synthetic containers (no QEMU): it holds only the clusters that differ, unpacks to the child's
// exact RAM over its parent's, and is refused with a named error when the parent is not the one it was taken over.
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ramLayer } from './snapshot-disks.js';
import { FORMAT_VERSION, HEADER_SPACE, SnapshotFormatError, writeHeader, type SnapshotHeader } from './snapshot-file.js';
import { compressSnapshot, unpackTemplate } from './snapshot.js';

const MiB = 1024 * 1024;
const RAM = 16 * MiB;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-snapshot-over-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A container of 4 KiB state whose RAM section is `ram` (a file), raw. */
function container(file: string, ram: string, over?: { ref: string; id: string }): SnapshotHeader {
  const state = 4096;
  const bytes = readFileSync(ram);
  const header: SnapshotHeader = {
    format: FORMAT_VERSION, id: randomUUID(), engine: 'shared-ram', created: new Date().toISOString(),
    machine: { type: 'q35', memoryMiB: RAM / MiB, cpus: 1, accel: 'tcg', launchTemplate: 1, qemu: '0.0.0' },
    state: { offset: HEADER_SPACE, length: state },
    ram: { offset: HEADER_SPACE + state, length: bytes.length, encoding: 'raw', size: bytes.length, ...(over ? { over } : {}) },
    vm: {},
  };
  const fd = openSync(file, 'w');
  try {
    writeHeader(fd, header);
    writeSync(fd, randomBytes(state), 0, state, HEADER_SPACE);
    writeSync(fd, bytes, 0, bytes.length, HEADER_SPACE + state);
  } finally {
    closeSync(fd);
  }
  return header;
}

it('stores the pages that differ, and unpacks to the child RAM over its parent, compressed or not', async () => {
  const parentRam = path.join(dir, 'parent.ram');
  writeFileSync(parentRam, randomBytes(RAM));
  const parent = container(path.join(dir, 'parent.snap'), parentRam);
  const templates = path.join(dir, 'templates');
  const p = await unpackTemplate(path.join(dir, 'parent.snap'), templates);
  // The child changed two pages of its parent's RAM.
  const child = Buffer.from(readFileSync(parentRam));
  child.write('child page one', 4096);
  child.write('child page two', 9 * MiB);
  const childRam = path.join(dir, 'child.ram');
  writeFileSync(childRam, child);
  const layer = path.join(dir, 'child-ram.qcow2');
  const size = await ramLayer(childRam, p.ram!, layer);
  expect(size).toBeLessThan(MiB); // two 64 KiB clusters and the qcow2 metadata, of 16 MiB
  const over = { ref: 'parent.snap', id: parent.id };
  container(path.join(dir, 'child.snap'), layer, over);
  await compressSnapshot(path.join(dir, 'child.snap'), path.join(dir, 'child.zst.snap'));
  for (const name of ['child.snap', 'child.zst.snap']) {
    const t = await unpackTemplate(path.join(dir, name), path.join(dir, `t-${name}`), { parent: async () => ({ id: parent.id, ram: p.ram! }) });
    expect(statSync(t.ram!).size).toBe(RAM);
    expect(readFileSync(t.ram!).equals(child)).toBe(true);
  }
});

it('refuses a section over a parent that was rebuilt, or outside the fixture cache, naming both', async () => {
  const ram = path.join(dir, 'r.ram');
  writeFileSync(ram, randomBytes(MiB));
  container(path.join(dir, 'orphan.snap'), ram, { ref: 'k.snap', id: 'old-id' });
  const orphan = path.join(dir, 'orphan.snap');
  await expect(unpackTemplate(orphan, path.join(dir, 'o1'), { parent: async () => ({ id: 'new-id', ram }) })).rejects.toThrow(SnapshotFormatError);
  await expect(unpackTemplate(orphan, path.join(dir, 'o2'), { parent: async () => ({ id: 'new-id', ram }) })).rejects.toThrow(
    /RAM is stored over cache entry k\.snap, which was rebuilt since \(snapshot new-id, not old-id\): build this fixture again/,
  );
  await expect(unpackTemplate(orphan, path.join(dir, 'o3'))).rejects.toThrow(/stored over cache entry k\.snap, and it is not restored from the fixture cache here/);
});
