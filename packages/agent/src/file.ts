/** An open file in the guest (AgentClient.open). */
import { MAX_COLLECT_BYTES, type SeekWhence } from '@provium/types/agent-protocol';
import type { SendRequest } from './send-request.js';
import type { AgentTail } from './tail.js';

const READ_ALL_CHUNK = 1024 * 1024;

export class AgentFile {
  constructor(
    private readonly send: SendRequest,
    readonly path: string,
    /** The agent's handle number. */
    readonly handle: number,
    private readonly tailHandle: (handle: number) => Promise<AgentTail>,
  ) {}

  /** What can be read from the file from its current offset on, as it comes (the file's offset stays). */
  stream(): Promise<AgentTail> {
    return this.tailHandle(this.handle);
  }

  /** Up to `size` bytes; empty at end of file. */
  async read(size: number): Promise<Buffer> {
    const res = await this.send('read', { handle: this.handle, size });
    return res.data as Buffer;
  }

  /**
   * Everything from the current offset to the end, up to `max` bytes: a file
   * with more raises (as `read_file` does), after reading `max` + 1 bytes.
   */
  async readAll(max = MAX_COLLECT_BYTES): Promise<Buffer> {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = await this.read(Math.min(READ_ALL_CHUNK, max + 1 - total));
      if (chunk.length === 0) return Buffer.concat(parts);
      total += chunk.length;
      if (total > max) throw new Error(`${this.path} has more than ${max} bytes from this offset on: read it in parts (file:read(n)), or stream it`);
      parts.push(chunk);
    }
  }

  /** Writes all of `data`; returns the number of bytes written. */
  async write(data: string | Uint8Array): Promise<number> {
    const res = await this.send('write', { handle: this.handle, data: typeof data === 'string' ? Buffer.from(data) : data });
    return res.written;
  }

  /** Returns the new offset. */
  async seek(offset: number, whence: SeekWhence = 'set'): Promise<number> {
    return (await this.send('seek', { handle: this.handle, offset, whence })).offset;
  }

  async tell(): Promise<number> {
    return (await this.send('tell', { handle: this.handle })).offset;
  }

  async close(): Promise<void> {
    await this.send('close', { handle: this.handle });
  }
}
