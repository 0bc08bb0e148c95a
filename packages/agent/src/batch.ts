/**
 * AgentClient.batch: many ops in one request (the agent's `batch`, run in
 * order), each op answered on its own as its single method would answer it.
 */
import type { AgentErrorBody, BatchOp, BatchOpRequest } from '@provium/types/agent-protocol';
import { commandSpec, type DirEntry, type ExecOptions, type ExecResult, type FileStat } from './client-types.js';
import type { Value } from './codec.js';
import { AgentError } from './errors.js';
import { entriesFrom, execResultFrom, statFrom } from './results.js';
import { SYSCALL_DEFAULT_TIMEOUT_MS, syscallOutcome, syscallRequest, type SyscallCall, type SyscallOutcome } from './syscalls.js';

/** One op of a batch, in the terms of AgentClient's own methods. */
export type BatchCall =
  | { op: 'exec'; command: string | readonly string[]; options?: Omit<ExecOptions, 'trace'> }
  | { op: 'read_file'; path: string }
  | { op: 'write_file'; path: string; data: string | Uint8Array; mode?: number }
  | { op: 'stat'; path: string }
  | { op: 'listdir'; path: string }
  | { op: 'mkdir'; path: string; parents?: boolean; mode?: number }
  | { op: 'unlink'; path: string }
  | { op: 'rename'; from: string; to: string }
  | { op: 'syscall'; call: SyscallCall };

/** What each op gives when it succeeds: what its own method of AgentClient returns. */
export interface BatchValues {
  exec: ExecResult;
  read_file: Buffer;
  write_file: undefined;
  stat: FileStat;
  listdir: DirEntry[];
  mkdir: undefined;
  unlink: undefined;
  rename: undefined;
  syscall: SyscallOutcome;
}

export type BatchOutcome = { [O in BatchOp]: { op: O; ok: true; value: BatchValues[O] } | { op: O; ok: false; error: AgentError } }[BatchOp];

export function batchOpRequest(call: BatchCall): BatchOpRequest {
  switch (call.op) {
    case 'exec': {
      const { stdin, timeoutMs, ...command } = call.options ?? {};
      return { op: 'exec', ...commandSpec(call.command, command), stdin: typeof stdin === 'string' ? Buffer.from(stdin) : stdin, timeout_ms: timeoutMs };
    }
    case 'syscall':
      return { op: 'syscall', ...syscallRequest(call.call) };
    case 'write_file':
      return { ...call, data: typeof call.data === 'string' ? Buffer.from(call.data) : call.data };
    default:
      return call;
  }
}

/** The whole batch's time limit: none when an exec has none, else the execs' and syscalls' deadlines plus one request's. */
export function batchTimeoutMs(calls: readonly BatchCall[], requestTimeoutMs: number): number | null {
  let total = requestTimeoutMs;
  for (const c of calls) {
    if (c.op === 'syscall') total += c.call.timeoutMs ?? SYSCALL_DEFAULT_TIMEOUT_MS;
    if (c.op !== 'exec') continue;
    if (c.options?.timeoutMs === undefined) return null;
    total += c.options.timeoutMs;
  }
  return total;
}

type Answer = { ok: boolean; error?: AgentErrorBody } & { [key: string]: Value };

function valueOf(op: BatchOp, msg: Answer): BatchValues[BatchOp] {
  switch (op) {
    case 'exec':
      return execResultFrom(msg);
    case 'read_file':
      return msg.data as Buffer;
    case 'stat':
      return statFrom(msg as never);
    case 'listdir':
      return entriesFrom(msg as never);
    case 'syscall':
      return syscallOutcome(msg as never);
    default:
      return undefined;
  }
}

export function batchOutcomes(calls: readonly BatchCall[], results: Value): BatchOutcome[] {
  const answers = results as Answer[];
  if (!Array.isArray(answers) || answers.length !== calls.length) {
    throw new Error(`agent batch: ${calls.length} ops got ${Array.isArray(answers) ? answers.length : 'no list of'} answers`);
  }
  return calls.map((c, i): BatchOutcome => {
    const a = answers[i];
    if (a.ok !== true) return { op: c.op, ok: false, error: new AgentError(c.op, a.error!) };
    return { op: c.op, ok: true, value: valueOf(c.op, a) } as BatchOutcome;
  });
}
