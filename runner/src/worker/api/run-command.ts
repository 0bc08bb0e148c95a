/** `run` and `run_async` of a VM and of a worker: the original's argument forms, one implementation for both. */
import type { AgentClient, AgentWorker } from '@provium/agent';
import type { Lua } from '@provium/types';
import type { CallContext } from '../binding/registry.js';
import { callTracer } from '../runtime/call-trace.js';
import { execFailure } from '../vm/exec-errors.js';
import { ProcessHandle } from '../vm/process.js';
import { RunResult } from '../vm/results.js';
import type { VmSession } from '../vm/session.js';
import { commandOf, commandText, runOpts, runTimeoutMs } from './guest-args.js';

/** Who runs the command: the agent, or one of its workers (same calls). */
export type CommandRunner = Pick<AgentClient | AgentWorker, 'exec' | 'spawn'>;

export async function runCommand(session: VmSession, runner: CommandRunner, cmd: string, arg2: Lua.RunOpts | string[] | undefined, call: CallContext): Promise<RunResult> {
  const o = runOpts(arg2);
  const timeoutMs = runTimeoutMs(o, call.services.timeoutScale);
  const trace = callTracer?.execTrace(commandText(cmd, o));
  let r;
  try {
    r = await session.guard(runner.exec(commandOf(cmd, o), { env: o.env, cwd: o.cwd, stdin: o.stdin, timeoutMs, trace }), call.signal);
  } catch (e) {
    throw execFailure(e, o.cwd);
  }
  callTracer?.mark('resolved');
  return new RunResult(commandText(cmd, o), r);
}

/** `worker`: the worker's id when the process is its child (then it has no output streams). */
export async function runAsync(session: VmSession, runner: CommandRunner, cmd: string, arg2: Lua.RunOpts | string[] | undefined, call: CallContext, worker?: number): Promise<ProcessHandle> {
  const o = runOpts(arg2);
  if (o.timeout !== undefined || o.timeout_ms !== undefined) throw new Error('run_async takes no timeout: pass it to process:wait(timeout)');
  const proc = await session.guard(runner.spawn(commandOf(cmd, o), { env: o.env, cwd: o.cwd })).catch((e: unknown) => {
    throw execFailure(e, o.cwd);
  });
  const handle = new ProcessHandle(session, commandText(cmd, o), proc, worker);
  call.services.onScopeEnd(() => handle.close(), 'process');
  if (o.stdin !== undefined) {
    await proc.write(o.stdin);
    await proc.closeStdin();
  }
  return handle;
}
