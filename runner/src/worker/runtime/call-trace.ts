/**
 * PROVIUM_TRACE_CALLS=<file>: where the time of each waiting host call goes,
 * for benchmarks (bench/vm prints vm:run's breakdown from it). Each call is
 * stamped with performance.now() (ms, this thread's clock) as it passes the
 * layers, an exec with its ExecTrace too, and the records are appended to the
 * file as JSON lines when a test file ends. Unset, nothing is recorded: the
 * stamps cost one check of an undefined variable each.
 */
import { appendFileSync } from 'node:fs';
import type { ExecTrace } from '@provium/agent';

export interface CallMarks {
  /** The implementation is called (arguments checked and converted). */
  impl: number;
  /** Its promise settled, in the implementation (vm:run). */
  resolved?: number;
  /** The driver resumed the Lua thread. */
  resumed?: number;
  /** The result is on the Lua stack. */
  returned?: number;
}

export interface CallRecord {
  /** As errors name the call: "vm:run". */
  label: string;
  marks: CallMarks;
  /** vm:run: the command and its path through the agent client and the agent. */
  command?: string;
  exec?: ExecTrace;
}

/** Records kept in memory before a write (a long file flushes on the way). */
const FLUSH_EVERY = 10_000;

class CallTracer {
  private records: CallRecord[] = [];
  /** The call between its implementation and its return to Lua (one at a time per thread). */
  private current: CallRecord | undefined;

  constructor(private readonly file: string) {}

  begin(label: string): void {
    if (this.records.length >= FLUSH_EVERY) this.flush();
    this.current = { label, marks: { impl: performance.now() } };
    this.records.push(this.current);
  }

  mark(name: 'resolved' | 'resumed'): void {
    if (this.current) this.current.marks[name] = performance.now();
  }

  /** The call's result is back in Lua. */
  end(): void {
    if (this.current) this.current.marks.returned = performance.now();
    this.current = undefined;
  }

  /** An ExecTrace for the exec the current call makes. */
  execTrace(command: string): ExecTrace | undefined {
    if (!this.current) return undefined;
    this.current.command = command;
    return (this.current.exec = {});
  }

  flush(): void {
    if (this.records.length === 0) return;
    appendFileSync(this.file, this.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    this.records = [];
  }
}

export const callTracer: CallTracer | undefined = process.env.PROVIUM_TRACE_CALLS ? new CallTracer(process.env.PROVIUM_TRACE_CALLS) : undefined;
