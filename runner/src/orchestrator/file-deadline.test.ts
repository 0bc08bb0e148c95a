import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HARD_KILL_GRACE_MS } from '../config/defaults.js';
import { FileDeadline } from './file-deadline.js';

describe('the hard deadline of a file', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('hits after the timeout and the grace, counted from the start', () => {
    const onHit = vi.fn();
    const d = new FileDeadline(1_000, onHit);
    d.start();
    vi.advanceTimersByTime(1_000 + HARD_KILL_GRACE_MS - 1);
    expect(onHit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onHit).toHaveBeenCalledOnce();
    expect(d.hit).toBe(true);
  });

  it('a timeout set later counts from the start; one already over still gets the whole grace', () => {
    const onHit = vi.fn();
    const d = new FileDeadline(60_000, onHit);
    d.start();
    vi.advanceTimersByTime(10_000);
    d.reset(20_000); // 10 s left
    vi.advanceTimersByTime(10_000 + HARD_KILL_GRACE_MS - 1);
    expect(onHit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onHit).toHaveBeenCalledOnce();

    const late = vi.fn();
    const e = new FileDeadline(60_000, late);
    e.start();
    vi.advanceTimersByTime(10_000);
    e.reset(1_000); // over 9 s ago
    expect(e.timeoutMs).toBe(1_000);
    vi.advanceTimersByTime(HARD_KILL_GRACE_MS - 1);
    expect(late).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(late).toHaveBeenCalledOnce();
  });

  it('cleared, it never hits', () => {
    const onHit = vi.fn();
    const d = new FileDeadline(1_000, onHit);
    d.start();
    d.clear();
    vi.advanceTimersByTime(60_000);
    expect(onHit).not.toHaveBeenCalled();
    expect(d.hit).toBe(false);
  });

  it('no timeout, or one longer than a timer can wait, arms no timer (Node would fire it at once)', () => {
    for (const ms of [Infinity, 600 * 3600_000]) {
      const d = new FileDeadline(ms, vi.fn());
      d.start();
      expect(vi.getTimerCount()).toBe(0);
      d.reset(ms);
      expect(vi.getTimerCount()).toBe(0);
    }
  });

  it('time paused (the file queued for resources) is not counted; nested pauses count once', () => {
    const onHit = vi.fn();
    const d = new FileDeadline(1_000, onHit);
    d.start();
    vi.advanceTimersByTime(400);
    d.pause();
    d.pause();
    vi.advanceTimersByTime(60_000);
    d.resume();
    vi.advanceTimersByTime(60_000);
    expect(onHit).not.toHaveBeenCalled();
    d.resume();
    vi.advanceTimersByTime(600 + HARD_KILL_GRACE_MS - 1);
    expect(onHit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onHit).toHaveBeenCalledOnce();
  });
});
