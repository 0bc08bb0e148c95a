import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ResourcePool, poolLimits, type Waiting } from './pool.js';

const M = 1024 ** 2;
const limits = { memory: 1024 * M, cpus: 4, origin: 'test' };

describe('poolLimits: --mem, --cpus, --cpu-overcommit', () => {
  it('defaults to 80% of the host RAM and its cores × 1.0 under KVM, × 4.0 under TCG', () => {
    const cores = os.availableParallelism();
    expect(poolLimits('kvm')).toMatchObject({ memory: Math.floor(os.totalmem() * 0.8), cpus: cores });
    expect(poolLimits('tcg')).toMatchObject({ cpus: cores * 4, origin: `80% of host RAM, ${cores} cores × --cpu-overcommit 4` });
  });

  it('takes --mem as it is and rounds --cpus × the overcommit, to at least 1', () => {
    expect(poolLimits('kvm', { memory: 3 * M, cpus: 3, overcommit: 1.5 })).toEqual({ memory: 3 * M, cpus: 5, origin: '--mem, --cpus 3 × --cpu-overcommit 1.5' });
    expect(poolLimits('tcg', { cpus: 1, overcommit: 0.5 }).cpus).toBe(1);
    expect(poolLimits('tcg', { cpus: 3, overcommit: 0.5 }).cpus).toBe(2);
    expect(poolLimits('tcg', { cpus: 2 }).cpus).toBe(8);
  });
});

describe('ResourcePool', () => {
  it('grants what fits at once and queues the rest until a release', async () => {
    const blocked: Waiting[] = [];
    const pool = new ResourcePool(limits);
    const a = await pool.acquire({ memory: 768 * M, cpus: 1 }, 'a', (w) => blocked.push(w));
    let bGranted = false;
    const b = pool.acquire({ memory: 512 * M, cpus: 1 }, 'b', (w) => blocked.push(w)).then((l) => ((bGranted = true), l));
    await Promise.resolve();
    expect(bGranted).toBe(false);
    expect(blocked.map((w) => w.owner)).toEqual(['b']); // a did not wait
    expect(blocked[0].free).toEqual({ memory: 256 * M, cpus: 3 });
    a.release();
    a.release(); // idempotent
    const lease = await b;
    expect(pool.available()).toEqual({ memory: 512 * M, cpus: 3 });
    lease.release();
    expect(pool.available()).toEqual({ memory: 1024 * M, cpus: 4 });
  });

  it('grants in arrival order so a big request is not starved', async () => {
    const pool = new ResourcePool(limits);
    const first = await pool.acquire({ memory: 512 * M, cpus: 1 }, 'first');
    const order: string[] = [];
    const big = pool.acquire({ memory: 1024 * M, cpus: 3 }, 'big').then((l) => (order.push('big'), l));
    const small = pool.acquire({ memory: 256 * M, cpus: 1 }, 'small').then((l) => (order.push('small'), l));
    await Promise.resolve();
    expect(order).toEqual([]); // small would fit, but waits behind big
    first.release();
    (await big).release();
    await small;
    expect(order).toEqual(['big', 'small']);
  });

  it('fails at once, with the numbers, when a request exceeds the whole pool', async () => {
    const pool = new ResourcePool(limits);
    await expect(pool.acquire({ memory: 2048 * M, cpus: 1 }, 'lab "cluster"')).rejects.toThrow(
      /lab "cluster" needs 2\.0G memory and 1 CPU, more than the whole pool of 1\.0G memory and 4 CPUs \(test\)/,
    );
  });

  it('drops a cancelled waiter and serves the next one', async () => {
    const pool = new ResourcePool(limits);
    const hold = await pool.acquire({ memory: 1024 * M, cpus: 1 }, 'hold');
    const ac = new AbortController();
    const cancelled = pool.acquire({ memory: 1024 * M, cpus: 1 }, 'cancelled', undefined, ac.signal);
    const next = pool.acquire({ memory: 1 * M, cpus: 1 }, 'next');
    ac.abort(new Error('file timed out'));
    await expect(cancelled).rejects.toThrow('file timed out');
    hold.release();
    await expect(next).resolves.toBeDefined();
  });

  it('fails the request that closes a hold-and-wait cycle between files, naming the holders and provium:claim', async () => {
    const pool = new ResourcePool(limits);
    await pool.acquire({ memory: 512 * M, cpus: 2 }, 'VM one of a', undefined, undefined, 'a.test.lua');
    await pool.acquire({ memory: 512 * M, cpus: 2 }, 'VM one of b', undefined, undefined, 'b.test.lua');
    let aGot = false;
    void pool.acquire({ memory: 256 * M, cpus: 1 }, 'VM two of a', undefined, undefined, 'a.test.lua').then(() => (aGot = true));
    // a waits while b still runs: no verdict yet; b then asks too, and nothing can ever be released
    const b2 = pool.acquire({ memory: 256 * M, cpus: 1 }, 'VM two of b', undefined, undefined, 'b.test.lua');
    await expect(b2).rejects.toThrow(
      'the pool is deadlocked: VM two of b needs 256M memory and 1 CPU, only 0M memory and 0 CPUs is free, and every file holding the rest is waiting for more (a.test.lua holds 512M memory and 2 CPUs; b.test.lua holds 512M memory and 2 CPUs). Reserve what each file needs up front with provium:claim',
    );
    await Promise.resolve();
    expect(aGot).toBe(false);
  });

  it('no verdict while a holder is not waiting, or when a waiting request fits', async () => {
    const pool = new ResourcePool(limits);
    const a = await pool.acquire({ memory: 512 * M, cpus: 3 }, 'a1', undefined, undefined, 'a');
    await pool.acquire({ memory: 256 * M, cpus: 1 }, 'b1', undefined, undefined, 'b');
    const a2 = pool.acquire({ memory: 512 * M, cpus: 1 }, 'a2', undefined, undefined, 'a'); // b runs on
    a.release();
    await expect(a2).resolves.toBeDefined();
    // A request of no file (undefined holder) never gets the verdict.
    const c = pool.acquire({ memory: 1024 * M, cpus: 1 }, 'c');
    let settled = false;
    void c.then(() => (settled = true), () => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
  });

  it('a release that leaves only waiting holders fails the newest waiter', async () => {
    const pool = new ResourcePool(limits);
    await pool.acquire({ memory: 256 * M, cpus: 1 }, 'a1', undefined, undefined, 'a');
    await pool.acquire({ memory: 256 * M, cpus: 1 }, 'b1', undefined, undefined, 'b');
    const c = await pool.acquire({ memory: 256 * M, cpus: 2 }, 'c1', undefined, undefined, 'c');
    const a2 = pool.acquire({ memory: 512 * M, cpus: 3 }, 'a2', undefined, undefined, 'a');
    const b2 = pool.acquire({ memory: 512 * M, cpus: 3 }, 'b2', undefined, undefined, 'b');
    let aFailed = false;
    void a2.catch(() => (aFailed = true));
    c.release(); // 2 CPUs free: neither fits, and a and b only wait on each other
    await expect(b2).rejects.toThrow('the pool is deadlocked: b2 needs');
    await Promise.resolve();
    expect(aFailed).toBe(false);
  });
});
