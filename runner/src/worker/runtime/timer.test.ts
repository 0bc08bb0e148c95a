import { expect, test } from 'vitest';
import { MAX_TIMER_MS, timerMs } from './timer.js';

test('delays past what Node honours are held at its maximum, never wrapped to 1 ms', async () => {
  expect(timerMs(1000 * 3600 * 1000)).toBe(MAX_TIMER_MS); // wait("10h") under --timeout-scale 100
  expect(timerMs(-5)).toBe(0);
  expect(timerMs(250)).toBe(250);
  let fired = false;
  const t = setTimeout(() => (fired = true), timerMs(2 ** 32));
  await new Promise((r) => setTimeout(r, 20));
  clearTimeout(t);
  expect(fired).toBe(false);
});
