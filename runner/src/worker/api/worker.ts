/** `vm:spawn_worker()`: the binding of the schema's Worker class. */
import type { Lua } from '@provium/types';
import type { CallContext } from '../binding/registry.js';
import { GuestWorker } from '../vm/guest-worker.js';
import type { VmSession } from '../vm/session.js';
import { signalArg } from '../vm/signals.js';
import { syscallCall } from '../vm/syscall-args.js';
import { SyscallHandle, runSyscall } from '../vm/syscall.js';
import { runAsync, runCommand } from './run-command.js';
import { scaledMs } from './scope.js';

/** Starts the worker and has it joined when the scope that made it ends. */
export async function spawnWorker(session: VmSession, opts: Lua.WorkerOpts, call: CallContext): Promise<GuestWorker> {
  const { thread, ...spec } = opts;
  if (thread === true) throw new Error('spawn_worker{thread=true} is not supported: a worker is always a process of its own; leave `thread` out');
  const agent = await session.guard(session.agentFor().spawnWorker(spec), call.signal);
  const w = new GuestWorker(session, agent);
  call.services.onScopeEnd(() => w.close(), 'worker');
  return w;
}

export const workerBinding: Lua.WorkerBinding = {
  is: (v) => v instanceof GuestWorker,
  receiver: 'worker',
  tostring: (w) => `Worker(${w.agent.id}, pid ${w.agent.pid})`,
  methods: {
    run: async (w, [cmd, arg2], call) => runCommand(w.vm, w.use(), cmd, arg2, call),
    run_async: async (w, [cmd, arg2], call) => runAsync(w.vm, w.use(), cmd, arg2, call, w.agent.id),
    syscall: async (w, [nr, ...rest], call) => runSyscall(w.vm, syscallCall(nr, rest, call.overload === 0, (s) => scaledMs(s, call)), w.use()),
    syscall_async: (w, [nr, ...rest], call) => {
      const handle = SyscallHandle.start(w.vm, syscallCall(nr, rest, call.overload === 0, (s) => scaledMs(s, call)), w.use());
      call.services.onScopeEnd(() => handle.close(), 'process');
      return handle;
    },
    open_file: () => {
      throw new Error('worker:open_file() is not supported: a File lives in the main agent, not in the worker; use vm:open_file(), or open it inside the worker with worker:syscall(openat, ...)');
    },
    kill: async (w, [sig]) => {
      await w.vm.guard(w.use().kill(signalArg(sig ?? 'term')));
    },
    join: async (w) => w.join(),
    handle: (w) => w.agent.id,
    close: async (w) => w.close(),
  },
};
