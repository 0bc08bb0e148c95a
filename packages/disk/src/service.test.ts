// The disk thread: needs the built worker script (npm test builds first).
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskService } from './service.js';
import { QemuIo } from './testing.js';

const dist = (f: string) => new URL(`../dist/${f}`, import.meta.url);
let svc: DiskService;
let dir: string;
let images = 0;

beforeAll(async () => {
  if (!existsSync(fileURLToPath(dist('service-worker.js')))) throw new Error('packages/disk/dist is missing: run `npm run build` first (npm test does)');
  svc = await DiskService.start();
  dir = mkdtempSync(join(tmpdir(), 'pvdisk-svc-'));
});
afterAll(async () => {
  await svc.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh sparse image and a socket path beside it. */
function image(sizeMiB = 4): { image: string; socket: string } {
  const n = ++images;
  const path = join(dir, `i${n}.img`);
  writeFileSync(path, '');
  truncateSync(path, sizeMiB * 1024 * 1024);
  return { image: path, socket: join(dir, `i${n}.sock`) };
}

const head = (path: string, n = 4096): Buffer => readFileSync(path).subarray(0, n);

async function until(pred: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await pred())) await new Promise((r) => setTimeout(r, 5));
}

describe('disk thread', () => {
  it('serves a disk for a client: policy, power cut, counters, stop', async () => {
    const client = svc.client();
    const f = image();
    const disk = await client.start(f.image, f.socket, { name: 'data' });
    expect(disk).toMatchObject({ id: 'd1', name: 'data', socketPath: f.socket, size: 4 * 1024 * 1024, uri: `nbd+unix:///data?socket=${f.socket}` });
    const io = await QemuIo.open(disk.uri);
    await io.run('write -P 0xab 0 4k');
    expect(await disk.stats()).toMatchObject({ commands: 1, writes: 1, bytes_written: 4096, unflushed_bytes: 4096, connections: 1 });
    expect(await disk.failReads()).toEqual({ fail_reads: true, fail_writes: false });
    expect(await io.run('read 0 4k')).toMatch(/read failed: Input\/output error/);
    expect(await disk.failRange(0, 8)).toEqual({ fail_reads: true, fail_writes: false, fail_range_sector: 0, fail_range_count: 8 });
    expect(await disk.clearPolicy()).toEqual({ fail_reads: false, fail_writes: false });
    expect(await io.run('read -P 0xab 0 4k')).toMatch(/read 4096/);
    await expect(disk.failAfter(0)).rejects.toThrow(/disk "data" \(.*i1\.sock\): fail_after: n must be .*at least 1.*got 0/);
    expect(await disk.delay(5)).toEqual({ fail_reads: false, fail_writes: false, delay_ms: 5 });
    expect(await disk.failWrites()).toEqual({ fail_reads: false, fail_writes: true, delay_ms: 5 });
    expect(await disk.policy()).toEqual({ fail_reads: false, fail_writes: true, delay_ms: 5 });
    expect(await io.run('write -P 0xcd 0 4k')).toMatch(/write failed: Input\/output error/);
    expect(await disk.powerCut()).toBe(4096);
    expect(await io.run('read -P 0 0 4k')).toMatch(/read 4096/);
    expect((await svc.stats()).disks).toBeGreaterThanOrEqual(1);
    await disk.stop();
    expect(existsSync(f.socket)).toBe(false);
    await expect(disk.stats()).rejects.toThrow(/disk "data" .* is stopped: start a new one/);
    await io.close();
    await client.close();
    await expect(client.start(f.image, f.socket)).rejects.toThrow(/disk client closed/);
  });

  it('keeps serving while the thread that owns the disk is blocked', async () => {
    const client = svc.client();
    const f = image();
    const disk = await client.start(f.image, f.socket, { name: 'busy' });
    // qemu-io runs from another thread; this thread (the disk's owner) blocks
    // until it reports, which needs the disk thread to serve all its commands.
    const done = new Int32Array(new SharedArrayBuffer(8));
    const commands = ['write -P 0x5a 0 1M', ...Array.from({ length: 40 }, (_, i) => `read -P 0x5a ${(i % 16) * 64}k 64k`), 'flush'];
    const w = new Worker(
      `const { workerData: d, parentPort } = require('node:worker_threads');
       const { spawnSync } = require('node:child_process');
       const r = spawnSync('qemu-io', ['-t', 'writeback', '-f', 'raw', d.uri, ...d.commands.flatMap((c) => ['-c', c])], { encoding: 'utf8' });
       parentPort.postMessage(r.stdout + r.stderr);
       Atomics.store(d.done, 1, r.status === null ? -1 : r.status);
       Atomics.store(d.done, 0, 1);
       Atomics.notify(d.done, 0);`,
      { eval: true, workerData: { uri: disk.uri, commands, done } },
    );
    const output = new Promise<string>((r) => w.once('message', r));
    expect(Atomics.wait(done, 0, 0, 60_000)).toBe('ok'); // blocks this thread's event loop
    expect(Atomics.load(done, 1)).toBe(0);
    const text = await output;
    expect(text).not.toMatch(/failed|Pattern verification/);
    expect(text.match(/read 65536\/65536/g)).toHaveLength(40);
    expect(await disk.stats()).toMatchObject({ reads: 40, writes: 1, failed: 0, unflushed_bytes: 0 }); // and a flush or two (qemu-io's own on exit)
    expect(head(f.image)).toEqual(Buffer.alloc(4096, 0x5a));
    await w.terminate();
    await client.close();
  });

  it('a client that closes commits its disks; one whose thread ends without closing loses their unflushed writes', async () => {
    const clean = svc.client();
    const f = image();
    const disk = await clean.start(f.image, f.socket);
    const io = await QemuIo.open(disk.uri);
    await io.run('write -P 0x11 0 4k');
    await clean.close();
    expect(existsSync(f.socket)).toBe(false);
    expect(head(f.image)).toEqual(Buffer.alloc(4096, 0x11));
    await io.close();

    const before = await svc.stats();
    const g = image();
    const port = svc.connect();
    const w = new Worker(
      `const { workerData: d, parentPort } = require('node:worker_threads');
       (async () => {
         const { DiskClient } = await import(d.client);
         const disk = await new DiskClient(d.port).start(d.image, d.socket);
         parentPort.postMessage(disk.uri);
         setInterval(() => {}, 1000); // stays busy until terminated
       })();`,
      { eval: true, workerData: { client: dist('client.js').href, port, image: g.image, socket: g.socket }, transferList: [port] },
    );
    const uri = await new Promise<string>((r) => w.once('message', r));
    const orphan = await QemuIo.open(uri);
    await orphan.run('write -P 0x22 0 4k');
    expect((await svc.stats()).disks).toBe(before.disks + 1);
    await w.terminate();
    await until(async () => (await svc.stats()).disks === before.disks);
    expect(existsSync(g.socket)).toBe(false);
    expect(head(g.image)).toEqual(Buffer.alloc(4096, 0));
    await orphan.close();
  });

  it('names what it cannot serve, and a client of an ended thread fails instead of hanging', async () => {
    const client = svc.client();
    await expect(client.start(join(dir, 'missing.img'), join(dir, 'm.sock'))).rejects.toThrow(/disk image .*missing\.img cannot be opened/);
    const f = image();
    const disk = await client.start(f.image, f.socket);
    await expect(client.start(f.image, f.socket)).rejects.toThrow(/already exists: remove it or choose another socket path/);
    expect(disk.qemuArgs('data0')).toEqual([
      '-blockdev', `driver=nbd,server.type=unix,server.path=${f.socket},export=${disk.name},node-name=data0`,
      '-device', 'virtio-blk-pci,drive=data0,id=data0-dev',
    ]);
    expect(() => disk.qemuArgs('0bad')).toThrow(/node name "0bad" must be a letter/);
    await client.close();

    const other = await DiskService.start();
    const orphan = other.client();
    const g = image();
    const kept = await orphan.start(g.image, g.socket);
    const io = await QemuIo.open(kept.uri);
    await io.run('write -P 0x33 0 4k');
    await other.stop(); // a clean stop of the whole thread commits
    expect(existsSync(g.socket)).toBe(false);
    expect(head(g.image)).toEqual(Buffer.alloc(4096, 0x33));
    await expect(kept.stats()).rejects.toThrow(/disk thread is gone|closed/);
    await io.close();
  });
});
