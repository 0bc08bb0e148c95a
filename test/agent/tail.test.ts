import { appendFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError, type AgentTail } from '@provium/agent';
import { sharedAgent } from './harness.js';

const agent = sharedAgent();

/** What the tail sends until `text` is in it (rejects when it ends first). */
function until(tail: AgentTail, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString();
      if (!got.includes(text)) return;
      tail.data.off('data', onData);
      tail.data.off('end', onEnd);
      tail.data.pause();
      resolve(got);
    };
    const onEnd = () => reject(new Error(`tail ended before ${JSON.stringify(text)}; got ${JSON.stringify(got)}`));
    tail.data.on('data', onData);
    tail.data.once('end', onEnd);
    tail.data.resume(); // an earlier until() paused it
  });
}

describe('tail_open', () => {
  it('sends only what is appended after it started, from the end', async () => {
    const p = join(agent.h.dir, 'end.log');
    await writeFile(p, 'old line\n');
    const tail = await agent.client.tailFile(p, 0, true);
    expect(tail.offset).toBe(9);
    await appendFile(p, 'one\n');
    await appendFile(p, 'two\n');
    expect(await until(tail, 'two\n')).toBe('one\ntwo\n');
    await tail.close();
  });

  it('starts at an offset, or that many bytes before the end (clamped to 0), or at the end when past it', async () => {
    const p = join(agent.h.dir, 'offsets.log');
    await writeFile(p, '0123456789');
    const cases: Array<[number, boolean, number]> = [[0, false, 0], [4, false, 4], [3, true, 7], [50, true, 0], [50, false, 10]];
    for (const [offset, fromEnd, start] of cases) {
      const tail = await agent.client.tailFile(p, offset, fromEnd);
      expect(tail.offset, `offset ${offset} fromEnd ${fromEnd}`).toBe(start);
      await tail.close();
    }
    const tail = await agent.client.tailFile(p, 3, true);
    expect(await until(tail, '9')).toBe('789');
    await tail.close();
  });

  it('reads a truncated file on from its start', async () => {
    const p = join(agent.h.dir, 'trunc.log');
    await writeFile(p, 'a long first line\n');
    const tail = await agent.client.tailFile(p, 0, false);
    await until(tail, 'first line\n');
    await truncate(p, 0);
    // growth past the old end before the agent looked would hide the truncation: wait until its log says it saw it
    while (!(await agent.client.agentLog()).toString().includes(`tail ${tail.id}: truncated`)) await new Promise((r) => setTimeout(r, 20));
    await appendFile(p, 'after\n');
    expect(await until(tail, 'after\n')).toBe('after\n');
    await tail.close();
  });

  it('follows the path to a new file after rotation, once the old one is read to its end', async () => {
    const p = join(agent.h.dir, 'rotate.log');
    await writeFile(p, '');
    const tail = await agent.client.tailFile(p, 0, false);
    await appendFile(p, 'before\n');
    await until(tail, 'before\n');
    await rename(p, `${p}.1`);
    await appendFile(`${p}.1`, 'late in the old file\n');
    await writeFile(p, 'new file\n');
    const got = await until(tail, 'new file\n');
    expect(got).toContain('late in the old file\n');
    expect(got.endsWith('new file\n')).toBe(true);
    await tail.close();
  });

  it('refuses a missing file or a directory, naming the path', async () => {
    const missing = join(agent.h.dir, 'nope.log');
    const e = await agent.client.tailFile(missing, 0, true).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AgentError);
    expect((e as AgentError).code).toBe('ENOENT');
    expect((e as AgentError).message).toContain(missing);
    const d = await agent.client.tailFile(agent.h.dir, 0, true).catch((x: unknown) => x);
    expect((d as AgentError).code).toBe('EISDIR');
  });

  it('ends its data at close; closing again is a no-op', async () => {
    const p = join(agent.h.dir, 'close.log');
    await writeFile(p, '');
    const tail = await agent.client.tailFile(p, 0, false);
    const ended = new Promise((r) => tail.data.once('end', r));
    tail.data.resume();
    await tail.close();
    await ended;
    await tail.close();
    await appendFile(p, 'unseen\n');
    expect(await agent.client.request('tail_close', { tail: tail.id })).toBeDefined();
  });
});

describe('tail_fd', () => {
  it('reads an open file on from its offset, leaving the handle\'s offset alone', async () => {
    const p = join(agent.h.dir, 'fd.log');
    await writeFile(p, 'head\nbody\n');
    const f = await agent.client.open(p, 'r');
    await f.seek(5);
    const tail = await f.stream();
    expect(tail.offset).toBe(5);
    await appendFile(p, 'more\n');
    expect(await until(tail, 'more\n')).toBe('body\nmore\n');
    expect(await f.tell()).toBe(5);
    await tail.close();
    await f.close();
  });

  it('ends at the end of a pipe', async () => {
    const proc = await agent.client.spawn('mkfifo fifo && exec 3>fifo && sleep 0.2 && echo piped >&3', { cwd: agent.h.dir });
    const fifo = join(agent.h.dir, 'fifo');
    // the writer opens the FIFO first; opening it for reading then does not block
    let f;
    for (;;) {
      f = await agent.client.open(fifo, 'r').catch(() => undefined);
      if (f) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const tail = await f.stream();
    const got: Buffer[] = [];
    tail.data.on('data', (d: Buffer) => got.push(d));
    await new Promise((r) => tail.data.once('end', r));
    expect(Buffer.concat(got).toString()).toBe('piped\n');
    expect(tail.endReason).toBeUndefined();
    await proc.wait();
    await f.close();
  });

  it('refuses a handle open for writing only, naming it', async () => {
    const p = join(agent.h.dir, 'wo.log');
    const f = await agent.client.open(p, 'w');
    const e = await f.stream().catch((x: unknown) => x);
    expect((e as AgentError).code).toBe('EBADF');
    expect((e as AgentError).message).toContain('open for writing only');
    expect((e as AgentError).message).toContain(p);
    await f.close();
  });

  it('refuses a directory handle, naming it', async () => {
    const d = await agent.client.open(agent.h.dir, 'r');
    const e = await d.stream().catch((x: unknown) => x);
    expect((e as AgentError).code).toBe('EISDIR');
    expect((e as AgentError).message).toContain(agent.h.dir);
    await d.close();
  });

  it('refuses a handle that is not open', async () => {
    const e = await agent.client.request('tail_fd', { handle: 99999 }).catch((x: unknown) => x);
    expect((e as AgentError).code).toBe('EBADF');
    expect((e as AgentError).message).toContain('99999');
  });
});
