/** `vm:open_file()`: the binding of the schema's File class. */
import type { Lua } from '@provium/types';
import { FileHandle } from '../vm/handles.js';

const WHENCE = ['set', 'cur', 'end'] as const;
type Whence = (typeof WHENCE)[number];

export const fileBinding: Lua.FileBinding = {
  is: (v) => v instanceof FileHandle,
  receiver: 'file',
  tostring: (f) => `File(${f.path}${f.closed ? ', closed' : ''})`,
  methods: {
    read: async (f, [n]) => f.vm.session.guard(f.use().read(n)),
    read_all: async (f) => f.vm.session.guard(f.use().readAll()),
    write: async (f, [data]) => f.vm.session.guard(f.use().write(data)),
    seek: async (f, [off, whence = 'set']) => {
      if (!(WHENCE as readonly string[]).includes(whence)) throw new Error(`whence must be "set", "cur" or "end"; got "${whence}"`);
      return f.vm.session.guard(f.use().seek(off, whence as Whence));
    },
    tell: async (f) => f.vm.session.guard(f.use().tell()),
    fd: (f) => (f.closed ? 0 : f.file.handle),
    close: async (f) => {
      if (f.closed) return;
      const file = f.use();
      f.closed = true;
      f.vm.session.openFiles.delete(f);
      await f.vm.session.guard(file.close());
    },
  },
};
