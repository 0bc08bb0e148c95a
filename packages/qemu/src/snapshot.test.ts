// Compressing and unpacking snapshot containers with the real zstd, on synthetic containers (no QEMU):
// a damaged RAM section and a full disk end in an error naming the file, never in a crash.
import { randomBytes, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressSnapshot, unpackTemplate } from './snapshot.js';
import { FORMAT_VERSION, HEADER_SPACE, readHeader, SnapshotFormatError, writeHeader, type SnapshotHeader } from './snapshot-file.js';

/** Incompressible, and far larger than a pipe's buffer: zstd stops reading long before its input ends. */
const RAM = 16 * 1024 * 1024;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-snapshot-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A raw container: 4 KiB of state and RAM of random bytes. */
function container(file: string): string {
  const state = 4096;
  const header: SnapshotHeader = {
    format: FORMAT_VERSION, id: randomUUID(), engine: 'shared-ram', created: new Date().toISOString(),
    machine: { type: 'q35', memoryMiB: RAM / 1024 / 1024, cpus: 1, accel: 'tcg', launchTemplate: 1, qemu: '0.0.0' },
    state: { offset: HEADER_SPACE, length: state },
    ram: { offset: HEADER_SPACE + state, length: RAM, encoding: 'raw', size: RAM },
    vm: {},
  };
  const fd = openSync(file, 'w');
  try {
    writeHeader(fd, header);
    writeSync(fd, randomBytes(state), 0, state, HEADER_SPACE);
    writeSync(fd, randomBytes(RAM), 0, RAM, HEADER_SPACE + state);
  } finally {
    closeSync(fd);
  }
  return file;
}

describe('unpackTemplate', () => {
  it('a compressed RAM section that is damaged fails as a corrupt snapshot naming the file, leaving no template', async () => {
    const packed = await compressSnapshot(container(path.join(dir, 'raw.snap')), path.join(dir, 'packed.snap'));
    const fd = openSync(path.join(dir, 'packed.snap'), 'r+');
    writeSync(fd, Buffer.from('not a zstd frame'), 0, 16, packed.ram!.offset); // zstd gives up at once
    closeSync(fd);
    const out = path.join(dir, 'templates');
    const err = await unpackTemplate(path.join(dir, 'packed.snap'), out).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SnapshotFormatError);
    expect((err as Error).message).toMatch(/cannot unpack snapshot .*packed\.snap: it is corrupt: its RAM section does not decompress \(zstd: .+\); take the snapshot again/);
    expect(readdirSync(out).filter((n) => n.endsWith('.ram') || n.includes('partial'))).toEqual([]);
  });
});

describe.skipIf(process.getuid?.() !== 0)('compressSnapshot onto a full disk (a 1 MiB tmpfs; needs root to mount)', () => {
  let full: string;
  beforeAll(() => {
    full = path.join(dir, 'full');
    mkdirSync(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1M', 'tmpfs', full]);
  });
  afterAll(() => execFileSync('umount', [full]));

  it('fails naming the destination and ENOSPC, and leaves nothing behind', async () => {
    const src = container(path.join(dir, 'big.snap'));
    const err = await compressSnapshot(src, path.join(full, 'entry.snap')).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/cannot write .*full\/entry\.snap: its file system is full \(ENOSPC\): free space there/);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(readdirSync(full)).toEqual([]);
    expect(readHeader(src).ram?.encoding).toBe('raw'); // the source is untouched
  });
});
