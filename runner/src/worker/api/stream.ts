/** Process output and the console, read as it arrives: the binding of the schema's Stream class. */
import type { Lua } from '@provium/types';
import { Stream } from '../vm/stream.js';
import { scaledSeconds } from './scope.js';

/** How long a stream read waits by default, in seconds (the schema's default). */
const STREAM_WAIT_S = 10;
/** How long `stream:drain()` waits for more by default (the original's 0.5 s). */
const DRAIN_WAIT_S = 0.5;

export const streamBinding: Lua.StreamBinding = {
  is: (v) => v instanceof Stream,
  receiver: 'stream',
  tostring: (s) => `Stream(${s.label})`,
  methods: {
    next: async (s, [t], call) => s.next(scaledSeconds(t, call, STREAM_WAIT_S), call.signal),
    read_until: async (s, [pattern, t], call) => s.until(pattern, scaledSeconds(t, call, STREAM_WAIT_S), call.signal, 'through'),
    expect: async (s, [pattern, t], call) => s.until(pattern, scaledSeconds(t, call, STREAM_WAIT_S), call.signal, 'match'),
    drain: async (s, [t], call) => s.drain(scaledSeconds(t, call, DRAIN_WAIT_S), call.signal),
    close: (s) => s.close(),
    eof: (s) => s.eof(),
  },
};
