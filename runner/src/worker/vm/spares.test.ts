import { describe, expect, it, vi } from 'vitest';
import type { QemuProcess, SnapshotTemplate } from '@provium/qemu';
import { spareKey, startSpare, takeSpare } from './spares.js';

function fakeQemu(): QemuProcess & { killed: boolean } {
  const q = { exit: undefined as unknown, qmp: { closed: false }, killed: false, kill: vi.fn(async () => { q.killed = true; q.exit = {}; }) };
  return q as unknown as QemuProcess & { killed: boolean };
}

const template = (id: string): SnapshotTemplate => ({ header: { id } as never, state: `/t/${id}.state`, ram: `/t/${id}.ram` });
const opts = { name: 'app', kernel: '/k', initrd: '/i', append: 'quiet' };

describe('spare QEMUs for the next restore', () => {
  it('only private restores without a network get a key; the key covers template and launch line', () => {
    expect(spareKey(template('a'), opts, 'copy')).toBeUndefined();
    expect(spareKey(template('a'), { ...opts, extraArgs: ['-netdev', 'x'] }, 'private')).toBeUndefined();
    const key = spareKey(template('a'), opts, 'private');
    expect(key).toBeDefined();
    expect(spareKey(template('b'), opts, 'private')).not.toBe(key);
    expect(spareKey(template('a'), { ...opts, name: 'other' }, 'private')).not.toBe(key);
    expect(spareKey(template('a'), { ...opts, append: 'loud' }, 'private')).not.toBe(key);
  });

  it('a restore takes the spare of its key once; another key gets none', async () => {
    const q = fakeQemu();
    startSpare('k1', async () => q);
    expect(await takeSpare('k2')).toBeUndefined();
    expect(await takeSpare('k1')).toBe(q);
    expect(await takeSpare('k1')).toBeUndefined();
  });

  it('a spare that died or failed to start is not handed out', async () => {
    const dead = fakeQemu();
    startSpare('dead', async () => dead);
    await dead.kill();
    expect(await takeSpare('dead')).toBeUndefined();
    startSpare('failed', () => Promise.reject(new Error('no QEMU')));
    expect(await takeSpare('failed')).toBeUndefined();
  });

  it('keeps a few at most: the oldest is killed', async () => {
    const qs = Array.from({ length: 5 }, fakeQemu);
    qs.forEach((q, i) => startSpare(`cap${i}`, async () => q));
    await vi.waitFor(() => expect(qs[0].killed).toBe(true));
    expect(await takeSpare('cap0')).toBeUndefined();
    for (let i = 1; i < 5; i++) expect(await takeSpare(`cap${i}`)).toBe(qs[i]);
  });
});
