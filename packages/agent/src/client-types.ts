/** What AgentClient's methods take and give, and how a command becomes request fields. */
import type { AgentRequests, EntryType, ExecAgentTrace } from '@provium/types/agent-protocol';
import type { ProcessExitInfo } from './process.js';

export interface AgentClientOptions {
  /** Interval between hellos until the agent answers. Default 200 ms. */
  helloIntervalMs?: number;
  /** Give up the handshake after this long. Default 60 000 ms. */
  handshakeTimeoutMs?: number;
  /** Timeout of each request (exec: added to its own timeout; none without one). Default 30 000 ms. */
  requestTimeoutMs?: number;
}

export interface CommandOptions {
  /** Positional parameters ($1...) of a shell command string. */
  args?: string[];
  /** Added to the agent's environment. */
  env?: Record<string, string>;
  cwd?: string;
}

/**
 * One exec's path through the client, for benchmarks: given as
 * ExecOptions.trace, it is filled in with performance.now() marks (ms), and
 * with the agent's own timeline when the agent reports it.
 */
export interface ExecTrace {
  /** exec() begins: the request is encoded. */
  send?: number;
  /** The request frame is ready. */
  encoded?: number;
  /** socket.write() returned. */
  sent?: number;
  /** The chunk that completed the answer came in. */
  arrived?: number;
  /** The answer is decoded. */
  decoded?: number;
  agent?: ExecAgentTrace;
}

export interface ExecOptions extends CommandOptions {
  stdin?: string | Uint8Array;
  /** The agent kills the process group after this long; the result says timed_out. */
  timeoutMs?: number;
  /** Filled in as the exec goes (see ExecTrace); leave it out unless measuring. */
  trace?: ExecTrace;
}

export interface ExecResult extends ProcessExitInfo {
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
}

export interface FileStat {
  size: number;
  /** Seconds since the epoch, with fraction. */
  mtime: number;
  mtimeSec: number;
  mtimeNsec: number;
  /** Permission bits (mode & 0o7777). */
  perm: number;
  entryType: EntryType;
  uid: number;
  gid: number;
}

export interface DirEntry {
  name: string;
  entryType: EntryType;
}

/** A string runs through `/bin/sh -c` (with `args` as $1...), an array is execvp'd. */
export function commandSpec(command: string | readonly string[], options: CommandOptions): AgentRequests['spawn'] {
  const { args, env, cwd } = options;
  if (typeof command === 'string') return { cmd: command, args, env, cwd };
  if (args !== undefined) {
    throw new TypeError('agent: `args` goes with a shell command string; put the arguments into the argv array instead');
  }
  return { argv: [...command], env, cwd };
}
