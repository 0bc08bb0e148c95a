import { describe, expect, it } from 'vitest';
import { FaultPolicy, SECTOR } from './policy.js';

describe('FaultPolicy', () => {
  it('starts serving everything, with unset rules absent', () => {
    const p = new FaultPolicy();
    expect(p.snapshot()).toEqual({ fail_reads: false, fail_writes: false });
    expect([p.fails('read', 0, 512), p.fails('write', 0, 512), p.fails('flush', 0, 0)]).toEqual([false, false, false]);
  });

  it('fail_reads and fail_writes fail their kind only, never a flush', () => {
    const p = new FaultPolicy();
    p.apply({ op: 'fail_reads', on: true });
    expect([p.fails('read', 0, 1), p.fails('write', 0, 1), p.fails('flush', 0, 0)]).toEqual([true, false, false]);
    p.apply({ op: 'fail_writes', on: true });
    expect([p.fails('read', 0, 1), p.fails('write', 0, 1), p.fails('flush', 0, 0)]).toEqual([true, true, false]);
    expect(p.apply({ op: 'fail_reads', on: false })).toEqual({ fail_reads: false, fail_writes: true });
  });

  it('fail_after fails the n-th command from the last change on, flushes included, and restarts on any change', () => {
    const p = new FaultPolicy();
    p.fails('read', 0, 1); // before the rule: not counted
    expect(p.apply({ op: 'fail_after', n: 3 })).toEqual({ fail_reads: false, fail_writes: false, fail_after: 3 });
    expect([p.fails('read', 0, 1), p.fails('write', 0, 1), p.fails('flush', 0, 0), p.fails('read', 0, 1)]).toEqual([false, false, true, true]);
    p.apply({ op: 'delay', ms: 0 }); // another field changes: the count starts again
    expect([p.fails('flush', 0, 0), p.fails('flush', 0, 0), p.fails('flush', 0, 0)]).toEqual([false, false, true]);
    p.apply({ op: 'fail_after', n: 1 });
    expect(p.fails('flush', 0, 0)).toBe(true);
  });

  it('fail_range catches reads and writes overlapping its sectors, not flushes', () => {
    const p = new FaultPolicy();
    expect(p.apply({ op: 'fail_range', sector: 8, count: 2 })).toEqual({ fail_reads: false, fail_writes: false, fail_range_sector: 8, fail_range_count: 2 });
    const from = 8 * SECTOR;
    const to = 10 * SECTOR;
    expect(p.fails('read', from - SECTOR, SECTOR)).toBe(false); // ends where the range begins
    expect(p.fails('read', from - SECTOR, SECTOR + 1)).toBe(true);
    expect(p.fails('write', to - 1, 1)).toBe(true);
    expect(p.fails('write', to, 4096)).toBe(false);
    expect(p.fails('read', 0, 1 << 20)).toBe(true); // spans it
    expect(p.fails('flush', 0, 0)).toBe(false);
  });

  it('delay sets delay_ms; 0 removes it; clear resets every field', () => {
    const p = new FaultPolicy();
    p.apply({ op: 'delay', ms: 25 });
    expect(p.delayMs).toBe(25);
    p.apply({ op: 'fail_writes', on: true });
    expect(p.snapshot()).toEqual({ fail_reads: false, fail_writes: true, delay_ms: 25 });
    p.apply({ op: 'delay', ms: 0 });
    expect(p.snapshot()).toEqual({ fail_reads: false, fail_writes: true });
    p.apply({ op: 'fail_after', n: 2 });
    p.apply({ op: 'fail_range', sector: 0, count: 1 });
    expect(p.apply({ op: 'clear' })).toEqual({ fail_reads: false, fail_writes: false });
    expect([p.fails('read', 0, 1), p.fails('write', 0, 1), p.fails('flush', 0, 0)]).toEqual([false, false, false]);
  });

  it('refuses bad values, naming them, and then changes nothing', () => {
    const p = new FaultPolicy();
    p.apply({ op: 'fail_after', n: 2 });
    p.fails('read', 0, 1);
    expect(() => p.apply({ op: 'fail_after', n: 0 })).toThrow(/fail_after: n must be .*at least 1.*got 0/);
    expect(() => p.apply({ op: 'fail_after', n: 1.5 })).toThrow(/at least 1.*got 1\.5/);
    expect(() => p.apply({ op: 'fail_range', sector: -1, count: 1 })).toThrow(/fail_range: sector .*got -1/);
    expect(() => p.apply({ op: 'fail_range', sector: 0, count: 0 })).toThrow(/fail_range: count must be .*at least 1.*got 0/);
    expect(() => p.apply({ op: 'delay', ms: -5 })).toThrow(/delay: ms .*got -5/);
    expect(() => p.apply({ op: 'fail_reads', on: 'yes' as unknown as boolean })).toThrow(/fail_reads: on must be true or false, got "yes"/);
    expect(() => p.apply({ op: 'explode' } as never)).toThrow(/unknown policy change/);
    expect(p.snapshot()).toEqual({ fail_reads: false, fail_writes: false, fail_after: 2 });
    expect(p.fails('read', 0, 1)).toBe(true); // the count went on: the failed changes restarted nothing
  });
});
