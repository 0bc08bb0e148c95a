/** `vm:console()`: the binding of the schema's Console class. */
import type { Lua } from '@provium/types';
import type { CallContext } from '../binding/registry.js';
import { bytesToText } from '../lua/values.js';
import { findNeedle } from '../vm/lua-find.js';
import { ConsoleHandle, type VmHandle } from '../vm/handles.js';
import { Stream } from '../vm/stream.js';
import { timerMs } from '../runtime/timer.js';
import { opened, scaledMs } from './scope.js';

/** How long `console:expect` waits by default, in seconds (the schema's default). */
const CONSOLE_EXPECT_S = 30;

export const consoleBinding: Lua.ConsoleBinding = {
  is: (v) => v instanceof ConsoleHandle,
  receiver: 'console',
  methods: {
    read: (c, _args, call) => {
      const session = c.vm.session;
      session.agentFor();
      const con = session.console!;
      const s = new Stream(`${session.label}: console`, () => session.exitCause());
      s.attach((push, end) => {
        con.on('data', push);
        con.on('end', end);
        return () => {
          con.off('data', push);
          con.off('end', end);
        };
      });
      return opened(s, call, session);
    },
    read_log: (c) => c.vm.session.output.read(),
    expect: async (c, [pattern, timeout], call) => consoleExpect(c.vm, pattern, timeout ?? CONSOLE_EXPECT_S, call),
    write: async (c, [data, opts], call) => {
      c.vm.session.agentFor();
      const written = c.vm.session.console!.write(data);
      const seconds = opts?.timeout;
      if (!seconds) return written;
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`console:write did not finish within ${seconds}s (the guest is not reading its console)`)), timerMs(scaledMs(seconds, call)));
      });
      try {
        await Promise.race([written, limit]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => undefined,
  },
};

/**
 * Waits until the console output after the cursor matches `pattern`; the
 * cursor then moves past the match, so the next expect sees only later output
 * (the first one sees the whole log since boot).
 */
async function consoleExpect(vm: VmHandle, pattern: string, seconds: number, call: CallContext): Promise<Buffer> {
  const s = vm.session;
  s.agentFor();
  const con = s.console!;
  const deadline = Date.now() + scaledMs(seconds, call);
  for (;;) {
    const unread = s.output.unread();
    const found = findNeedle(unread, pattern);
    if (found) {
      s.output.cursor += found.end;
      return Buffer.from(found.match);
    }
    if (s.state === 'shutdown' || s.output.ended) {
      throw (await s.exitCause()) ?? new Error(`${s.label}: shut down before the console matched ${JSON.stringify(pattern)}`);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const tail = bytesToText(unread).split('\n').slice(-10).join('\n');
      throw new Error(`${s.label}: console did not match ${JSON.stringify(pattern)} within ${seconds * call.services.timeoutScale}s; last console lines:\n${tail}`);
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        con.off('data', done);
        con.off('end', done);
        call.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timerMs(left));
      con.on('data', done);
      con.on('end', done);
      call.signal.addEventListener('abort', done, { once: true });
    });
    if (call.signal.aborted) throw call.signal.reason;
  }
}

