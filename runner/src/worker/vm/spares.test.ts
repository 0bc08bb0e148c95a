import { describe, expect, it, vi } from 'vitest';
import { loadAndConnect } from './agent-connect.js';
import type { AgentClient } from '@provium/agent';
import type { QemuProcess, SnapshotTemplate } from '@provium/qemu';
import { primeRestored, spareKey, startSpare, takeSpare, type Spare, type SpareMaker } from './spares.js';

// The guest side of priming (primeRestored's handshake) is faked: its real run is test/vm/lab-spares.test.ts's.
vi.mock('./agent-connect.js', () => ({ loadAndConnect: vi.fn() }));

type FakeQemu = QemuProcess & { killed: boolean; nice: number | undefined };

function fakeQemu(nice?: number): FakeQemu {
  const q = {
    exit: undefined as unknown,
    qmp: { closed: false },
    killed: false,
    nice,
    kill: vi.fn(async () => {
      q.killed = true;
      q.exit = {};
    }),
    renice: vi.fn((value: number) => {
      q.nice = value;
    }),
  };
  return q as unknown as FakeQemu;
}

/** A maker whose QEMUs and spares are fakes; `launched` lists the QEMUs in start order. */
function fakeMaker(opts: { prime?: (q: FakeQemu) => Promise<Spare> } = {}): SpareMaker & { launched: FakeQemu[]; primed: FakeQemu[] } {
  const launched: FakeQemu[] = [];
  const primed: FakeQemu[] = [];
  return {
    launched,
    primed,
    launch: async (nice) => {
      const q = fakeQemu(nice);
      launched.push(q);
      return q;
    },
    prime: (q) => {
      primed.push(q as FakeQemu);
      const answered = opts.prime ? opts.prime(q as FakeQemu) : Promise.resolve({ qemu: q, agent: { closedReason: undefined } as AgentClient });
      answered.catch(() => {});
      return { answered, claim: () => answered };
    },
  };
}

const template = (id: string): SnapshotTemplate => ({ header: { id } as never, state: `/t/${id}.state`, ram: `/t/${id}.ram` });
const opts = { name: 'app', kernel: '/k', initrd: '/i', append: 'quiet' };
const root = process.getuid?.() === 0;

describe('VMs restored ahead of time for the next restore', () => {
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
    const maker = fakeMaker();
    startSpare('k1', maker);
    expect(await takeSpare('k2')).toBeUndefined();
    const spare = await takeSpare('k1');
    expect(spare?.qemu).toBe(maker.primed[0]);
    expect(await takeSpare('k1')).toBeUndefined();
  });

  it('a QEMU is started behind each spare, and the next spare is made from it', async () => {
    const maker = fakeMaker();
    startSpare('behind', maker);
    await vi.waitFor(() => expect(maker.launched).toHaveLength(2)); // the one being primed, and the one behind it
    const first = await takeSpare('behind');
    const behind = maker.launched.find((q) => q !== first?.qemu);
    startSpare('behind', maker); // what a restore does after taking one
    const second = await takeSpare('behind');
    expect(second?.qemu).toBe(behind);
    expect(maker.launched).toHaveLength(3);
  });

  it.runIf(root)('spares are made at nice 19 and set back to 0 when a restore takes one', async () => {
    const maker = fakeMaker();
    startSpare('nice', maker);
    await vi.waitFor(() => expect(maker.launched.map((q) => q.nice)).toEqual([19, 19]));
    const spare = await takeSpare('nice');
    expect((spare?.qemu as FakeQemu).nice).toBe(0);
    expect(maker.launched.find((q) => q !== spare?.qemu)?.nice).toBe(19); // the one behind still waits at the lowest priority
  });

  it('a spare that died or failed to be made is not handed out, and is killed', async () => {
    const dying = fakeMaker();
    startSpare('dead', dying);
    await vi.waitFor(() => expect(dying.primed).toHaveLength(1));
    await dying.primed[0]!.kill();
    expect(await takeSpare('dead')).toBeUndefined();
    const failing = fakeMaker({ prime: () => Promise.reject(new Error('no handshake')) });
    startSpare('failed', failing);
    expect(await takeSpare('failed')).toBeUndefined();
    const lost = fakeMaker({ prime: async (q) => ({ qemu: q, agent: { closedReason: 'the socket closed' } as AgentClient }) });
    startSpare('lost', lost);
    expect(await takeSpare('lost')).toBeUndefined();
    expect(lost.primed[0]!.killed).toBe(true);
  });

  it('keeps spares for a few keys at most: the least recently used key\'s QEMUs are killed', async () => {
    const makers = Array.from({ length: 5 }, () => fakeMaker());
    makers.forEach((m, i) => startSpare(`cap${i}`, m));
    await vi.waitFor(() => expect(makers[0]!.launched.every((q) => q.killed)).toBe(true));
    expect(await takeSpare('cap0')).toBeUndefined();
    for (let i = 1; i < 5; i++) expect((await takeSpare(`cap${i}`))?.qemu).toBe(makers[i]!.primed[0]);
  });

  it('a spare claimed before its warm-up is neither warmed up nor paused; during it, handed over once it ends; after it, paused', async () => {
    /** A QEMU whose agent answers when `answer` is called and whose warm-up command ends when `warmed` is. */
    const priming = () => {
      const q = Object.assign(fakeQemu(), { pause: vi.fn(async () => {}) });
      let answer!: () => void;
      let warmed!: () => void;
      const exec = vi.fn(() => new Promise<void>((r) => (warmed = r)));
      vi.mocked(loadAndConnect).mockImplementationOnce(() => new Promise((r) => (answer = () => r({ exec } as unknown as AgentClient))));
      const p = primeRestored(q, template('w'), 'vm "w"', 1000);
      return { q, p, exec, answer: () => answer(), warmed: () => warmed() };
    };
    const early = priming();
    const claimed = early.p.claim();
    early.answer();
    expect((await claimed).running).toBe(true);
    expect(early.exec).not.toHaveBeenCalled();
    expect(early.q.pause).not.toHaveBeenCalled();

    const during = priming();
    during.answer();
    await vi.waitFor(() => expect(during.exec).toHaveBeenCalledOnce());
    let done = false;
    const handed = during.p.claim().then((s) => ((done = true), s));
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false); // the warm-up still runs in the guest
    during.warmed();
    expect((await handed).running).toBe(true);
    expect(during.q.pause).not.toHaveBeenCalled();

    const late = priming();
    late.answer();
    await vi.waitFor(() => expect(late.exec).toHaveBeenCalledOnce());
    late.warmed();
    await vi.waitFor(() => expect(late.q.pause).toHaveBeenCalledOnce());
    expect((await late.p.claim()).running).toBeUndefined();
  });
});
