// Snapshots at the driver level, on the real default guest: what the engine
// moves, what it writes, what restores share, and what a bad file says.
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../packages/agent/src/index.js';
import { prepareDefaultImage, type DefaultImage } from '../../packages/image/src/index.js';
import {
  compressSnapshot, launchQemu, readHeader, restoreSnapshot, takeSnapshot, unpackTemplate, type QemuProcess, type SnapshotTemplate,
} from '../../packages/qemu/src/index.js';
import { tempRoot } from './helpers.js';

const { root, dispose } = tempRoot();
const work = mkdtempSync(path.join(tmpdir(), 'pvsnap-'));
let image: DefaultImage;
const live: QemuProcess[] = [];

async function agentOf(q: QemuProcess): Promise<AgentClient> {
  return AgentClient.connect(connect(q.agentSocketPath), { handshakeTimeoutMs: 120_000 });
}

async function restore(t: SnapshotTemplate, name: string, mode: 'private' | 'copy'): Promise<QemuProcess> {
  const q = await restoreSnapshot(t, { name, runtimeRoot: root, kernel: image.kernel, initrd: image.initrd, append: image.cmdline }, mode);
  live.push(q);
  return q;
}

/** Files a process maps, from /proc/<pid>/maps. */
function mappedFiles(pid: number): string[] {
  return readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').map((l) => l.split(/\s+/).slice(5).join(' ')).filter((p) => p.startsWith('/'));
}

let snap: string;
let ramTransferred: number;

beforeAll(async () => {
  image = await prepareDefaultImage();
  const q = await launchQemu({ name: 'base', memoryMiB: 256, runtimeRoot: root, kernel: image.kernel, initrd: image.initrd, append: image.cmdline });
  live.push(q);
  const a = await agentOf(q);
  await a.writeFile('/root/marker', Buffer.from('from the snapshot'));
  await a.close();
  snap = path.join(work, 'base.snap');
  ({ ramTransferred } = await takeSnapshot(q, snap, { note: 'test' }));
  expect((await q.status()).running).toBe(true);
  await q.kill();
}, 300_000);

afterAll(async () => {
  await Promise.all(live.map((q) => q.kill()));
  rmSync(work, { recursive: true, force: true });
  dispose();
});

describe('snapshot engine', () => {
  it('with the RAM file shared, the migration stream carries device state only; the one file holds state and a sparse RAM image', () => {
    expect(ramTransferred).toBeLessThan(1024 * 1024);
    const h = readHeader(snap);
    expect(h).toMatchObject({ engine: 'shared-ram', machine: { type: 'pc-i440fx-7.2', memoryMiB: 256, cpus: 1 }, vm: { note: 'test' } });
    expect(h.ram).toMatchObject({ encoding: 'raw', size: 256 * 1024 * 1024 });
    expect(readdirSync(work)).toEqual(['base.snap']); // no temp file left beside it
  });

  it('two restores map the same template privately; the template is never written; each guest sees the snapshot', async () => {
    const packed = path.join(work, 'packed.snap');
    await compressSnapshot(snap, packed);
    expect(readHeader(packed).ram?.encoding).toBe('zstd');
    const tdir = path.join(work, 'templates');
    const t = await unpackTemplate(packed, tdir);
    const before = readFileSync(t.ram!);
    const [r1, r2] = await Promise.all([restore(t, 'r1', 'private'), restore(t, 'r2', 'private')]);
    expect(mappedFiles(r1.pid)).toContain(t.ram);
    expect(mappedFiles(r2.pid)).toContain(t.ram);
    const [a1, a2] = await Promise.all([agentOf(r1), agentOf(r2)]);
    expect((await a1.readFile('/root/marker')).toString()).toBe('from the snapshot');
    await a1.writeFile('/root/marker', Buffer.from('changed in r1'));
    expect((await a2.readFile('/root/marker')).toString()).toBe('from the snapshot');
    // vmgenid: restored copies do not share the kernel's random state
    const [u1, u2] = await Promise.all([a1.exec(['cat', '/proc/sys/kernel/random/uuid']), a2.exec(['cat', '/proc/sys/kernel/random/uuid'])]);
    expect(u1.stdout.toString()).not.toBe(u2.stdout.toString());
    await Promise.all([a1.close(), a2.close()]);
    await Promise.all([r1.kill(), r2.kill()]);
    expect(readFileSync(t.ram!).equals(before)).toBe(true);
  }, 180_000);

  it('a privately restored VM snapshots through the stream; a copy-mode restore snapshots on the fast path again', async () => {
    const t = await unpackTemplate(snap, path.join(work, 'templates2'));
    const priv = await restore(t, 'priv', 'private');
    const viaStream = await takeSnapshot(priv, path.join(work, 'stream.snap'), {});
    expect(viaStream.header.engine).toBe('stream');
    expect(viaStream.ramTransferred).toBeGreaterThan(1024 * 1024);
    await priv.kill();
    const copy = await restore(t, 'copy', 'copy');
    const fast = await takeSnapshot(copy, path.join(work, 'fast.snap'), {});
    expect(fast.header.engine).toBe('shared-ram');
    expect(fast.ramTransferred).toBeLessThan(1024 * 1024);
    await copy.kill();
    // both restore and still hold the marker
    for (const f of ['stream.snap', 'fast.snap']) {
      const r = await restore(await unpackTemplate(path.join(work, f), path.join(work, 'templates3')), `again-${f.split('.')[0]}`, 'private');
      const a = await agentOf(r);
      expect((await a.readFile('/root/marker')).toString()).toBe('from the snapshot');
      await a.close();
      await r.kill();
    }
  }, 240_000);

  it('a file that is not a snapshot, or is truncated, is refused with its path and what is wrong', () => {
    const bogus = path.join(work, 'bogus.snap');
    writeFileSync(bogus, 'hello');
    expect(() => readHeader(bogus)).toThrow(`${bogus} is not a Provium snapshot`);
    const cut = path.join(work, 'cut.snap');
    writeFileSync(cut, readFileSync(snap).subarray(0, 200_000));
    expect(() => readHeader(cut)).toThrow(/snapshot .*cut\.snap is truncated/);
    expect(() => readHeader(path.join(work, 'missing.snap'))).toThrow(/missing\.snap cannot be opened: ENOENT/);
  });

  it('a corrupt compressed RAM image fails the unpack and leaves no template behind', async () => {
    const packed = path.join(work, 'corrupt.snap');
    await compressSnapshot(snap, packed);
    const h = readHeader(packed);
    const fd = openSync(packed, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, h.ram!.offset + 8192);
    closeSync(fd);
    const tdir = path.join(work, 'templates-corrupt');
    await expect(unpackTemplate(packed, tdir)).rejects.toThrow(/cannot unpack snapshot .*corrupt\.snap/);
    expect(existsSync(path.join(tdir, `${h.id}.ram`))).toBe(false);
    expect(readdirSync(tdir).filter((f) => f.includes('partial'))).toEqual([]);
  });
});
