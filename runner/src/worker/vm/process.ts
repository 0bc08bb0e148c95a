/** `vm:run_async()`: a guest process that runs on while the test goes on. */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentProcess } from '@provium/agent';
import { timerMs } from '../runtime/timer.js';
import { RunResult } from './results.js';
import type { VmSession } from './session.js';
import { Stream } from './stream.js';

/**
 * What a process keeps of each of its outputs for wait() (and for a stream
 * opened late): the first 16 MiB. A guest that writes more is not slowed
 * down: the rest is read and dropped, and the result says so (`truncated`).
 */
export const OUTPUT_KEEP_BYTES = 16 * 1024 * 1024;

class KeptOutput {
  readonly chunks: Buffer[] = [];
  private size = 0;
  dropped = 0;

  add(d: Buffer): void {
    const room = OUTPUT_KEEP_BYTES - this.size;
    const part = d.length <= room ? d : d.subarray(0, Math.max(0, room));
    if (part.length) this.chunks.push(part);
    this.size += part.length;
    this.dropped += d.length - part.length;
  }
}

/** How long `process:close()` gives a process to end after SIGTERM. */
const CLOSE_GRACE_MS = 2000;

export class ProcessHandle {
  private readonly out = new KeptOutput();
  private readonly err = new KeptOutput();
  private waited = false;

  constructor(
    readonly vm: VmSession,
    readonly command: string,
    readonly proc: AgentProcess,
    /** The id of the worker whose child it is: its output is not relayed as a stream. */
    readonly worker?: number,
  ) {
    proc.stdout.on('data', (d: Buffer) => this.out.add(d));
    proc.stderr.on('data', (d: Buffer) => this.err.add(d));
  }

  /** "running" until the exit is known; raises the VM's death if the VM died with the process still running. */
  status(): string {
    if (this.proc.exit) return this.proc.exit.status;
    this.vm.agentFor();
    return 'running';
  }

  /** Runs a request about the process, once the VM is in a state to answer it. */
  request<T>(op: () => Promise<T>): Promise<T> {
    this.vm.agentFor();
    return this.vm.guard(op());
  }

  /** A stream of stdout or stderr from the process's start (what was already printed comes first). */
  stream(which: 'stdout' | 'stderr'): Stream {
    if (this.worker !== undefined) {
      throw new Error(`${this.vm.label}: "${this.command}" runs in worker ${this.worker}, whose output cannot be streamed; process:wait() returns its stdout and stderr, or start it with vm:run_async() to stream it`);
    }
    // The output ends at the exit, or early when the agent connection is lost (then the VM's fate is the story).
    const endCause = () =>
      this.proc.wait().then(
        () => undefined,
        async (lost: Error) => (await this.vm.lostCause()) ?? lost,
      );
    const s = new Stream(`${this.vm.label}: ${which} of "${this.command}"`, endCause);
    const source = which === 'stdout' ? this.proc.stdout : this.proc.stderr;
    const seen = which === 'stdout' ? this.out : this.err;
    s.attach((push, end) => {
      for (const d of seen.chunks) push(d);
      if (source.readableEnded) end();
      source.on('data', push);
      source.on('end', end);
      return () => {
        source.off('data', push);
        source.off('end', end);
      };
    });
    return s;
  }

  /**
   * The result, once: waiting up to `seconds` (none: as long as it takes).
   * When the time is up first, the process's group is killed and the result
   * says `timed_out`, with the output so far (the original's rule).
   */
  async wait(seconds: number | undefined): Promise<RunResult> {
    if (this.waited) throw new Error(`${this.vm.label}: wait() already returned the result of "${this.command}": a process is waited for once (wait is one-shot); keep the RunResult the first wait gave`);
    if (seconds !== undefined && !(seconds > 0)) throw new Error(`${this.vm.label}: wait() needs a timeout above 0, got ${seconds}; use process:status() to look without waiting`);
    if (!this.proc.exit) this.vm.agentFor();
    const exit = this.vm.guard(this.proc.wait());
    let info = seconds === undefined ? await exit : await Promise.race([exit, sleep(timerMs(seconds * 1000), undefined, { ref: false })]);
    let timedOut = false;
    if (!info) {
      timedOut = true;
      await this.request(() => this.proc.kill('kill'));
      info = await exit;
    }
    // The exit can overtake the last 'data' events of the streams.
    for (const s of [this.proc.stdout, this.proc.stderr]) if (!s.readableEnded) await once(s, 'end');
    this.waited = true;
    const kept = { stdout: Buffer.concat(this.out.chunks), stderr: Buffer.concat(this.err.chunks) };
    const exitInfo = timedOut ? { status: 'timed_out' as const, exitCode: -2, signal: 'kill' } : info;
    return new RunResult(this.command, { ...exitInfo, ...kept, timedOut: exitInfo.status === 'timed_out' }, this.out.dropped + this.err.dropped > 0);
  }

  /** `process:close()`: unless waited for, SIGTERM, up to 2 s to exit, then SIGKILL. Never raises. */
  async close(): Promise<void> {
    // A paused guest cannot answer: its processes stay until the VM resumes or goes.
    if (this.waited || this.proc.exit || this.vm.state !== 'booted') return;
    try {
      await this.request(() => this.proc.kill('term'));
      const exited = await Promise.race([this.proc.wait().then(() => true), sleep(CLOSE_GRACE_MS, false, { ref: false })]);
      if (!exited) await this.request(() => this.proc.kill('kill'));
    } catch {
      // the VM or the process is gone already
    }
  }
}
