/** `vm:syscall_async()`: the binding of the schema's SyscallHandle class. */
import type { Lua } from '@provium/types';
import { SyscallHandle } from '../vm/syscall.js';

export const syscallHandleBinding: Lua.SyscallHandleBinding = {
  is: (v) => v instanceof SyscallHandle,
  receiver: 'handle',
  tostring: (h) => `SyscallHandle(${h.nr})`,
  methods: {
    await: async (h) => h.await(),
  },
};
