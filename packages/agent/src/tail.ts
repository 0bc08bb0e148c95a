/** A tail started with AgentClient.tailFile or AgentFile.stream: appended bytes as they come. */
import { Readable } from 'node:stream';
import type { Value } from './codec.js';
import type { SendRequest } from './send-request.js';

/**
 * `data` ends when the tail is closed, when the agent cannot read on (a pipe
 * whose writers all closed: `endReason` says why, undefined for a plain end)
 * or when the connection is lost (`endReason` says so).
 */
export class AgentTail {
  readonly data = new Readable({ read() {} });
  endReason: string | undefined;
  /** True when it ended because the connection was lost. */
  lost = false;
  private closed = false;

  constructor(
    private readonly send: SendRequest,
    /** The agent's id of the tail. */
    readonly id: number,
    /** The byte offset the tail started at (0 for pipes and devices). */
    readonly offset: number,
    private readonly forget: (id: number) => void,
  ) {}

  /** Stops the tail in the agent; data ends. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.finish(undefined);
    await this.send('tail_close', { tail: this.id });
  }

  private finish(reason: string | undefined): void {
    this.forget(this.id);
    if (this.data.readableEnded) return;
    this.endReason ??= reason;
    this.data.push(null);
  }

  /** @internal an event of this tail from the agent */
  handleEvent(msg: { [key: string]: Value }): void {
    if (msg.ev === 'tail_data') {
      if (!this.data.readableEnded) this.data.push(msg.data as Buffer);
    } else if (msg.ev === 'tail_end') {
      this.closed = true;
      this.finish(typeof msg.message === 'string' ? msg.message : undefined);
    }
  }

  /** @internal the connection dropped */
  connectionLost(reason: string): void {
    this.closed = true;
    this.lost = true;
    this.finish(`the agent connection was lost: ${reason}`);
  }
}
