/** `vm:run_async()`: the binding of the schema's Process class. */
import type { Lua } from '@provium/types';
import { ProcessHandle } from '../vm/process.js';
import { signalArg } from '../vm/signals.js';
import { opened } from './scope.js';

export const processBinding: Lua.ProcessBinding = {
  is: (v) => v instanceof ProcessHandle,
  receiver: 'process',
  tostring: (p) => `Process(${p.proc.pid}, ${p.status()})`,
  methods: {
    wait: async (p, [timeout], call) => p.wait(timeout === undefined ? undefined : timeout * call.services.timeoutScale),
    kill: async (p, [sig]) => {
      await p.request(() => p.proc.kill(signalArg(sig ?? 'term')));
    },
    signal: async (p, [sig]) => {
      await p.request(() => p.proc.kill(signalArg(sig)));
    },
    handle: (p) => p.proc.id,
    close: async (p) => p.close(),
    pid: (p) => p.proc.pid,
    status: (p) => p.status(),
    stdin_write: async (p, [data]) => p.request(() => p.proc.write(data)),
    close_stdin: async (p) => p.request(() => p.proc.closeStdin()),
    stdout_stream: (p, _args, call) => opened(p.stream('stdout'), call, p.vm),
    stderr_stream: (p, _args, call) => opened(p.stream('stderr'), call, p.vm),
  },
};
