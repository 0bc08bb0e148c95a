/**
 * `vm:batch(fn)`: what the builder `b` records while `fn` runs, and its
 * sending to the agent as one request once `fn` has returned.
 */
import type { BatchCall, BatchOutcome } from '@provium/agent';
import type { VmSession } from './session.js';

/** One recorded operation: the agent's call, and what its Lua entry needs besides the outcome. */
export interface BatchRecord {
  call: BatchCall;
  /** A run's command as RunResult names it. */
  command?: string;
  /** A run's working directory: a failure to start in it is said plainly. */
  cwd?: string;
}

export class BatchBuilder {
  private readonly records: BatchRecord[] = [];
  private sealed = false;

  /** The number the next operation gets, from 1 (messages name it). */
  get nextNumber(): number {
    return this.records.length + 1;
  }

  record(r: BatchRecord): void {
    if (this.sealed) throw new Error('this batch was sent already (or its function raised): record operations inside the function given to vm:batch');
    this.records.push(r);
  }

  /** Ends the recording (the function returned or raised); what was recorded. */
  seal(): readonly BatchRecord[] {
    this.sealed = true;
    return this.records;
  }
}

/** Sends the operations in one request; one outcome per operation, in order. A guest op: the VM must be booted. */
export async function sendBatch(session: VmSession, records: readonly BatchRecord[], signal: AbortSignal): Promise<BatchOutcome[]> {
  const agent = session.agentFor();
  return session.guard(agent.batch(records.map((r) => r.call)), signal);
}
