/** `bridge:capture()`, `nic:capture()`: the binding of the schema's Capture class, and how captures open. */
import type { Lua } from '@provium/types';
import type { CaptureControl, CaptureSink } from '@provium/net';
import type { CallContext } from '../binding/registry.js';
import { PacketCapture } from '../vm/capture.js';
import { trackCapture } from '../vm/captures.js';
import { scaledSeconds } from './scope.js';

/** How long a read waits by default, in seconds (§9). */
const READ_WAIT_S = 10;
/** How long `drain()` and `frames()` wait for more by default. */
const DRAIN_WAIT_S = 0.5;

/**
 * Starts a capture that is closed with the scope that opened it, kept for a
 * failing test's artifacts, and listed in `open` (what a snapshot refuses
 * while it is open) until closed.
 */
export async function openCapture(
  call: CallContext,
  what: { label: string; fileName: string },
  start: (sink: CaptureSink) => Promise<CaptureControl>,
  open: Map<object, string>,
): Promise<PacketCapture> {
  const where = call.where ? `${call.where.file}:${call.where.line}` : 'an unknown line';
  const c = await new PacketCapture(what.label, what.fileName).start(start);
  call.services.onScopeEnd(() => c.close(), 'stream');
  open.set(c, `capture of ${what.label} (opened at ${where})`);
  c.onClose = () => open.delete(c);
  trackCapture(c, call.services);
  return c;
}

export const captureBinding: Lua.CaptureBinding = {
  is: (v) => v instanceof PacketCapture,
  receiver: 'capture',
  tostring: (c) => `Capture(${c.label})`,
  methods: {
    next: async (c, [t], call) => c.next(scaledSeconds(t, call, READ_WAIT_S), call.signal),
    read_until: async (c, [needle, t], call) => c.until(needle, scaledSeconds(t, call, READ_WAIT_S), call.signal, 'through'),
    expect: async (c, [needle, t], call) => c.until(needle, scaledSeconds(t, call, READ_WAIT_S), call.signal, 'match'),
    drain: async (c, [t], call) => c.drain(scaledSeconds(t, call, DRAIN_WAIT_S), call.signal),
    frames: async (c, [t], call) => c.frames(scaledSeconds(t, call, DRAIN_WAIT_S), call.signal),
    dropped: async (c) => c.dropped(),
    eof: (c) => c.eof(),
    close: (c) => c.close(),
  },
};
