/** `vm:clock()`: the binding of the schema's Clock class. */
import type { Lua } from '@provium/types';
import { ClockHandle } from '../vm/handles.js';

export const clockBinding: Lua.ClockBinding = {
  is: (v) => v instanceof ClockHandle,
  receiver: 'clock',
  methods: {
    get: async (c) => c.vm.session.guard(c.vm.session.agentFor().getClock()),
    set: async (c, [t]) => c.vm.session.guard(c.vm.session.agentFor().setClock(t)),
    advance: async (c, [d]) => {
      const agent = c.vm.session.agentFor();
      const t = await c.vm.session.guard(agent.getClock());
      await c.vm.session.guard(agent.setClock(t + d));
    },
  },
};
