/** What `vm:run()` returns: RunResult, from the agent's exec result. */
import type { ExecResult } from '@provium/agent';
import { bytesToText } from '../lua/values.js';
import { signalNumber } from './signals.js';

export class RunResult {
  readonly exit_code: number;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly status: string;
  /** The POSIX number, as the original gives it. */
  readonly signal: number | undefined;
  readonly signal_name: string | undefined;
  readonly timed_out: boolean;

  constructor(
    readonly command: string,
    r: ExecResult,
    /** Set when a process's output went past what is kept for wait() (ProcessHandle). */
    readonly truncated = false,
  ) {
    this.exit_code = r.exitCode;
    this.stdout = r.stdout;
    this.stderr = r.stderr;
    this.status = r.status;
    const signalled = r.status === 'signalled' && r.signal ? r.signal : undefined;
    this.signal = signalled ? signalNumber(signalled) : undefined;
    this.signal_name = signalled?.toUpperCase();
    this.timed_out = r.timedOut;
  }

  ok(): boolean {
    return this.status === 'exited' && this.exit_code === 0;
  }

  /** The message of assert_ok: everything needed to see why the command failed. */
  failureText(): string {
    const how = this.status === 'exited' ? `exit code ${this.exit_code}` : this.status === 'signalled' ? `killed by signal ${this.signal_name} (${this.signal})` : 'timed out';
    const block = (name: string, b: Uint8Array) => (b.length ? `\n${name}:\n${bytesToText(b).replace(/\n$/, '')}` : `\n${name}: (empty)`);
    return `command failed (${how}, status ${this.status}): ${this.command}${block('stdout', this.stdout)}${block('stderr', this.stderr)}`;
  }
}
