import type { ClassSpec } from '../schema-types.js';
import { p, fn, A } from './build.js';

export const clock: ClassSpec = {
  name: 'Clock',
  doc: 'The guest\'s wall clock (seconds since the epoch, as a float).',
  fields: [],
  methods: [
    fn('get', [], 'number', 'The guest time.', A),
    fn('set', [p('t', 'number', 'Seconds since the epoch.')], 'nil', 'Sets the guest time.', A),
    fn('advance', [p('d', 'number|string', 'How far to move the clock: seconds, or a duration ("5m"); negative (-30, "-1h") moves it back.')], 'nil', 'Moves the guest clock (read, add, set).', A),
    fn('get_ns', [], 'number', 'The guest\'s CLOCK_REALTIME in nanoseconds since the epoch, as a float: Lua integers here are 32-bit, and a double holds today\'s nanosecond counts to the nearest 256 ns (docs/vms.md).', A),
    fn('set_ns', [p('ns', 'number|string', 'Nanoseconds since the epoch: a number (integral), or a string of decimal digits to set it exactly.')], 'nil', 'Sets the guest\'s CLOCK_REALTIME in nanoseconds.', A),
    fn('sleep', [p('d', 'duration', 'How long, at least 0.')], 'nil', 'The agent sleeps `d` inside the guest, then returns.', A),
  ],
};
