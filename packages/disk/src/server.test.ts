// The NBD server against a real client: qemu-io, one connection per session.
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nbdUri } from './qemu-args.js';
import { DiskServer } from './server.js';
import { WRITE_BACK_LIMIT } from './store.js';
import { QemuIo } from './testing.js';

const MiB = 1024 * 1024;
let dir: string;
const open: Array<{ disk: DiskServer; io?: QemuIo }> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pvdisk-'));
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.io?.close();
    await o.disk.stop('drop');
  }
  rmSync(dir, { recursive: true, force: true });
});

async function serve(sizeMiB = 4): Promise<{ disk: DiskServer; io: QemuIo; image: string }> {
  const image = join(dir, 'disk.img');
  writeFileSync(image, '');
  truncateSync(image, sizeMiB * MiB); // sparse
  const disk = await DiskServer.start({ image, socketPath: join(dir, 'disk.sock'), name: 'd0' });
  const entry: { disk: DiskServer; io?: QemuIo } = { disk };
  open.push(entry);
  const io = await QemuIo.open(nbdUri('d0', disk.socketPath));
  entry.io = io;
  return { disk, io, image };
}

const fileAt = (image: string, offset: number, length: number): Buffer => readFileSync(image).subarray(offset, offset + length);
const filled = (byte: number, length: number): Buffer => Buffer.alloc(length, byte);
const EIO = /failed: Input\/output error/;

/** Runs qemu-io's flush (which prints nothing, even when it fails) and tells how the server answered it. */
async function flush(disk: DiskServer, io: QemuIo): Promise<'ok' | 'failed'> {
  const before = disk.stats();
  await io.run('flush');
  const after = disk.stats();
  expect(after.flushes).toBe(before.flushes + 1);
  return after.failed === before.failed ? 'ok' : 'failed';
}

describe('NBD server with qemu-io', () => {
  it('holds writes in memory until a flush; reads see them before', async () => {
    const { disk, io, image } = await serve();
    expect(await io.run('write -P 0xab 4k 4k')).toMatch(/wrote 4096\/4096 bytes at offset 4096/);
    expect(fileAt(image, 4096, 4096)).toEqual(filled(0, 4096));
    expect(await io.run('read -P 0xab 4k 4k')).toMatch(/read 4096\/4096/);
    expect(disk.stats()).toMatchObject({ commands: 2, reads: 1, writes: 1, flushes: 0, bytes_read: 4096, bytes_written: 4096, unflushed_bytes: 4096, connections: 1 });
    expect(await flush(disk, io)).toBe('ok');
    expect(fileAt(image, 4096, 4096)).toEqual(filled(0xab, 4096));
    expect(disk.stats()).toMatchObject({ flushes: 1, unflushed_bytes: 0 });
  });

  it('writes a FUA write through at once, and only its own range', async () => {
    const { disk, io, image } = await serve();
    await io.run('write -P 0x11 0 4k');
    expect(await io.run('write -f -P 0x22 8k 4k')).toMatch(/wrote 4096/);
    expect(fileAt(image, 8192, 4096)).toEqual(filled(0x22, 4096));
    expect(fileAt(image, 0, 4096)).toEqual(filled(0, 4096));
    expect(disk.stats().unflushed_bytes).toBe(4096);
    // Zeroes (WRITE_ZEROES) are held like data.
    expect(await io.run('write -z 8k 1k')).toMatch(/wrote 1024/);
    expect(await io.run('read -P 0 8k 1k')).toMatch(/read 1024/);
    expect(fileAt(image, 8192, 1024)).toEqual(filled(0x22, 1024));
  });

  it('a power cut drops the unflushed writes and keeps the flushed ones', async () => {
    const { disk, io, image } = await serve();
    await io.run('write -P 0x33 0 4k');
    expect(await flush(disk, io)).toBe('ok');
    await io.run('write -P 0x44 0 4k');
    await io.run('write -P 0x55 64k 4k');
    expect(await disk.powerCut()).toBe(8192);
    expect(disk.stats().unflushed_bytes).toBe(0);
    expect(await io.run('read -P 0x33 0 4k')).toMatch(/read 4096/);
    expect(await io.run('read -P 0 64k 4k')).toMatch(/read 4096/);
    await io.close(); // qemu-io flushes as it goes: nothing is left to commit
    expect(fileAt(image, 0, 4096)).toEqual(filled(0x33, 4096));
    expect(fileAt(image, 65536, 4096)).toEqual(filled(0, 4096));
  });

  it(`commits on its own once more than ${WRITE_BACK_LIMIT / MiB} MiB are held`, async () => {
    const { disk, io, image } = await serve(80);
    await io.run('write -P 0x01 0 64M');
    expect(disk.stats().unflushed_bytes).toBe(WRITE_BACK_LIMIT); // at the limit, not above it
    expect(fileAt(image, 0, 16)).toEqual(filled(0, 16));
    await io.run('write -P 0x02 64M 4k');
    expect(disk.stats().unflushed_bytes).toBe(0);
    expect(fileAt(image, 0, 16)).toEqual(filled(0x01, 16));
    expect(fileAt(image, 64 * MiB - 16, 16)).toEqual(filled(0x01, 16));
    expect(fileAt(image, 64 * MiB, 4096)).toEqual(filled(0x02, 4096));
    expect(disk.stats().flushes).toBe(0);
  });

  it('each fault mode fails the client with EIO, and clearing it restores service on the same connection', async () => {
    const { disk, io } = await serve();
    await io.run('write -P 0x66 0 64k');
    expect(disk.setPolicy({ op: 'fail_reads', on: true })).toEqual({ fail_reads: true, fail_writes: false });
    expect(await io.run('read 0 4k')).toMatch(EIO);
    expect(await io.run('write -P 0x66 0 4k')).toMatch(/wrote 4096/);
    expect(await flush(disk, io)).toBe('ok');
    disk.setPolicy({ op: 'clear' });
    expect(await io.run('read -P 0x66 0 4k')).toMatch(/read 4096/);

    disk.setPolicy({ op: 'fail_writes', on: true });
    expect(await io.run('write -P 0x77 0 4k')).toMatch(EIO);
    expect(await io.run('write -z 0 4k')).toMatch(EIO);
    expect(await io.run('read -P 0x66 0 4k')).toMatch(/read 4096/); // the failed writes changed nothing
    expect(await flush(disk, io)).toBe('ok');
    disk.setPolicy({ op: 'clear' });
    expect(await io.run('write -P 0x77 0 4k')).toMatch(/wrote 4096/);

    expect(disk.setPolicy({ op: 'fail_range', sector: 8, count: 8 })).toEqual({ fail_reads: false, fail_writes: false, fail_range_sector: 8, fail_range_count: 8 });
    expect(await io.run('read 0 4k')).toMatch(/read 4096/);
    expect(await io.run('read 4k 4k')).toMatch(EIO);
    expect(await io.run('write -P 0x88 7k 2k')).toMatch(EIO);
    expect(await io.run('read 8k 4k')).toMatch(/read 4096/);
    expect(await io.run('write -P 0x66 12k 4k')).toMatch(/wrote 4096/);
    expect(await flush(disk, io)).toBe('ok');
    disk.setPolicy({ op: 'clear' });
    expect(await io.run('read -P 0x66 4k 4k')).toMatch(/read 4096/);

    expect(disk.stats()).toMatchObject({ connections: 1, failed: 5 });
  });

  it('fail_after counts reads, writes and flushes from the last change, and fails flushes too', async () => {
    const { disk, io, image } = await serve();
    await io.run('read 0 4k'); // before the rule: not counted
    expect(() => disk.setPolicy({ op: 'fail_after', n: 0 })).toThrow(/disk "d0" \(.*disk\.sock\): fail_after: n must be .*at least 1/);
    disk.setPolicy({ op: 'fail_after', n: 3 });
    expect(await io.run('read 0 4k')).toMatch(/read 4096/);
    expect(await io.run('write -P 0x99 0 4k')).toMatch(/wrote 4096/);
    expect(await flush(disk, io)).toBe('failed');
    expect(fileAt(image, 0, 4096)).toEqual(filled(0, 4096)); // the failed flush committed nothing
    expect(await io.run('read 0 4k')).toMatch(EIO);
    disk.setPolicy({ op: 'fail_reads', on: false }); // any change restarts the count
    expect(await io.run('read -P 0x99 0 4k')).toMatch(/read 4096/);
    expect(await flush(disk, io)).toBe('ok');
    expect(fileAt(image, 0, 4096)).toEqual(filled(0x99, 4096));
    expect(await io.run('read 0 4k')).toMatch(EIO);
    expect(disk.getPolicy()).toEqual({ fail_reads: false, fail_writes: false, fail_after: 3 });
  });

  it('delay holds every command back by its time', async () => {
    const { disk, io } = await serve();
    expect(disk.setPolicy({ op: 'delay', ms: 150 })).toEqual({ fail_reads: false, fail_writes: false, delay_ms: 150 });
    const started = performance.now();
    expect(await io.run('read 0 4k')).toMatch(/read 4096/);
    expect(await io.run('read 4k 4k')).toMatch(/read 4096/);
    // A lower bound only: the server slept before serving each of the two reads.
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * 150);
    disk.setPolicy({ op: 'delay', ms: 0 });
    expect(disk.getPolicy()).toEqual({ fail_reads: false, fail_writes: false });
  });

  it('a clean stop commits the unflushed writes and removes the socket; a dropping stop loses them', async () => {
    const { disk, io, image } = await serve();
    await io.run('write -P 0xaa 0 4k');
    await disk.stop();
    expect(existsSync(disk.socketPath)).toBe(false);
    expect(fileAt(image, 0, 4096)).toEqual(filled(0xaa, 4096));
    expect(await io.run('read 0 4k')).toMatch(/failed|exited/); // the connection is gone

    const again = await DiskServer.start({ image, socketPath: join(dir, 'again.sock') });
    open.push({ disk: again });
    expect(again.name).toBe('disk.img');
    const io2 = await QemuIo.open(nbdUri('disk.img', again.socketPath));
    open[open.length - 1].io = io2;
    await io2.run('write -P 0xbb 0 4k');
    await again.stop('drop');
    expect(fileAt(image, 0, 4096)).toEqual(filled(0xaa, 4096));
  });

  it('refuses what it cannot serve, naming it', async () => {
    const sock = join(dir, 's.sock');
    await expect(DiskServer.start({ image: join(dir, 'missing.img'), socketPath: sock })).rejects.toThrow(/disk image .*missing\.img cannot be opened .*create it first/);
    const empty = join(dir, 'empty.img');
    writeFileSync(empty, '');
    await expect(DiskServer.start({ image: empty, socketPath: sock })).rejects.toThrow(/empty\.img is empty/);
    writeFileSync(sock, '');
    const image = join(dir, 'x.img');
    writeFileSync(image, Buffer.alloc(4096));
    await expect(DiskServer.start({ image, socketPath: sock })).rejects.toThrow(/disk "x\.img" \(.*s\.sock\): .*already exists: remove it/);
    await expect(DiskServer.start({ image, socketPath: join(dir, 'x'.repeat(120)) })).rejects.toThrow(/more than a unix socket takes/);
    await expect(DiskServer.start({ image, socketPath: join(dir, 'no/such/dir.sock') })).rejects.toThrow(/cannot listen on the socket.*directory exists/);

    const disk = await DiskServer.start({ image, socketPath: join(dir, 'ok.sock'), name: 'right' });
    open.push({ disk });
    await expect(QemuIo.open(nbdUri('wrong', disk.socketPath))).rejects.toThrow(/no export "wrong" here: this socket serves only "right"/);
  });
});
