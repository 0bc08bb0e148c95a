/** `vm:clock()`: the binding of the schema's Clock class. */
import { parseDurationText, type Lua } from '@provium/types';
import { ClockHandle } from '../vm/handles.js';
import { nsNumber, nsParts } from './nanoseconds.js';

/** Seconds of a number or a duration text that may start with "-" (the clock may go back). */
function signedSeconds(d: number | string): number {
  const magnitude = typeof d === 'number' ? Math.abs(d) : parseDurationText(d.replace(/^-/, ''));
  const seconds = magnitude === undefined ? NaN : (typeof d === 'number' ? Math.sign(d) : d.startsWith('-') ? -1 : 1) * magnitude;
  if (!Number.isFinite(seconds)) throw new Error(`advance needs a finite number of seconds or a duration such as "5m" or "-1h", got ${JSON.stringify(d)}`);
  return seconds;
}

export const clockBinding: Lua.ClockBinding = {
  is: (v) => v instanceof ClockHandle,
  receiver: 'clock',
  methods: {
    get: async (c) => c.vm.session.guard(c.vm.session.agentFor().getClock()),
    set: async (c, [t]) => c.vm.session.guard(c.vm.session.agentFor().setClock(t)),
    advance: async (c, [d]) => {
      const seconds = signedSeconds(d);
      const agent = c.vm.session.agentFor();
      const t = await c.vm.session.guard(agent.getClock());
      await c.vm.session.guard(agent.setClock(t + seconds));
    },
    get_ns: async (c) => {
      const { sec, nsec } = await c.vm.session.guard(c.vm.session.agentFor().getClockParts());
      return nsNumber(sec, nsec);
    },
    set_ns: async (c, [ns]) => {
      const { sec, nsec } = nsParts(ns, 'set_ns');
      await c.vm.session.guard(c.vm.session.agentFor().setClockParts(sec, nsec));
    },
    sleep: async (c, [d], call) => {
      if (!(d >= 0) || !Number.isFinite(d)) throw new Error(`sleep needs a duration of at least 0, got ${d}`);
      // The guest's own sleep: the call takes about \`d\` of the guest's time.
      const r = await c.vm.session.guard(c.vm.session.agentFor().exec(['sleep', String(d)]), call.signal);
      if (r.exitCode !== 0) throw new Error(`sleep ${d} failed in the guest: ${r.stderr.toString().trim()}`);
    },
  },
};
