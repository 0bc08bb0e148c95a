/**
 * Workers at the protocol level, on the real agent binary run on the host:
 * relayed requests, process events kept apart per worker, and what the host
 * hears when a worker dies or the host goes away. (test/vm/worker.test.ts
 * covers credentials in a real guest.)
 */
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AgentClient } from '@provium/agent';
import { sharedAgent } from './harness.js';

const agent = sharedAgent();

/** A process that has exited and been reaped has no /proc entry; a zombie says Z. */
function gone(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

describe('workers', () => {
  it('runs commands as children of the worker process, with its credentials', async () => {
    const w = await agent.client.spawnWorker({ uid: 65534, gid: 65534, groups: [] });
    expect(w.id).toBeGreaterThan(0);
    const r = await w.exec('echo $PPID; id -u; id -G');
    expect(r.stdout.toString()).toBe(`${w.pid}\n65534\n65534\n`);
    expect((await agent.client.exec('id -u')).stdout.toString()).toBe('0\n');
    const left = await w.spawn('sleep 100');
    expect(await w.join()).toBe(0);
    await expect(left.wait()).rejects.toThrow(/can no longer be reached: the worker ended \(exit status 0\)/);
    process.kill(left.pid, 'SIGKILL');
  });

  it('makes syscalls in the worker process: sync on its main thread, async on a thread of its own, cancel relayed', async () => {
    const w = await agent.client.spawnWorker({ uid: 65534, gid: 65534, groups: [] });
    expect(await w.syscall({ nr: 39, args: [] })).toEqual({ ret: w.pid, errno: 0, outBufs: [] });
    expect((await w.syscall({ nr: 102, args: [] })).ret).toBe(65534);
    expect((await w.syscallAsync({ nr: 39, args: [] }).result).ret).toBe(w.pid);
    // nanosleep(100 s) in flight on the worker, interrupted through it
    const slow = w.syscallAsync({ nr: 35, args: [], bufs: [Buffer.from([100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])], ptrs: [0] });
    await slow.cancel();
    expect(await slow.result).toMatchObject({ ret: -1, errno: 4 });
    expect(await w.join()).toBe(0);
    await expect(w.syscall({ nr: 39, args: [] })).rejects.toThrow(/joined/);
    // a raw setuid on the worker's main thread: the identity its later commands and calls have
    const root = await agent.client.spawnWorker();
    expect((await root.syscall({ nr: 105, args: [65534n] })).ret).toBe(0);
    expect((await root.syscall({ nr: 102, args: [] })).ret).toBe(65534);
    expect((await root.exec('id -u')).stdout.toString()).toBe('65534\n');
    expect((await agent.client.exec('id -u')).stdout.toString()).toBe('0\n');
    expect(await root.join()).toBe(0);
  });

  it('keeps process events of the agent and of each worker apart (each numbers its processes from its own counter)', async () => {
    const [a, b] = await Promise.all([agent.client.spawnWorker(), agent.client.spawnWorker()]);
    const procs = await Promise.all([agent.client.spawn('echo main'), a.spawn('echo a'), b.spawn('echo b')]);
    const outs = await Promise.all(
      procs.map(async (p) => {
        const chunks: Buffer[] = [];
        p.stdout.on('data', (d: Buffer) => chunks.push(d));
        await p.wait();
        if (!p.stdout.readableEnded) await once(p.stdout, 'end');
        return Buffer.concat(chunks).toString();
      }),
    );
    expect(outs).toEqual(['main\n', 'a\n', 'b\n']);
    expect(await Promise.all([a.join(), b.join()])).toEqual([0, 0]);
  });

  it('reports a worker that died: its pending requests and running processes fail, later requests say so, join collects the status', async () => {
    const w = await agent.client.spawnWorker();
    const proc = await w.spawn('sleep 100');
    // the agent may answer the pending request before or after it reports the exit: its
    // rejection is taken up at once, so that it is never unhandled while the test awaits the exit
    const pending = expect(w.exec('sleep 100')).rejects.toThrow(/worker \d+ died before answering \(exit status 137: killed by signal kill\)/);
    const exited = once(agent.client, 'worker_exit');
    process.kill(w.pid, 'SIGKILL');
    expect(await exited).toEqual([w.id, 137]);
    await pending;
    await expect(proc.wait()).rejects.toThrow(/of worker \d+ can no longer be reached: the worker ended \(exit status 137\)/);
    await expect(w.exec('true')).rejects.toThrow(/worker \d+ died \(exit status 137: killed by signal kill\); join it/);
    await expect(w.kill('term')).rejects.toThrow(/died/);
    expect(await w.join()).toBe(137);
    await expect(w.join()).rejects.toThrow(/does not exist: it was joined already/);
    process.kill(proc.pid, 'SIGKILL');
  });

  it('refuses bad options, naming them', async () => {
    await expect(agent.client.spawnWorker({ uid: -1 })).rejects.toThrow(/'uid' must be an id/);
    await expect(agent.client.spawnWorker({ cwd: '/no/such/dir' })).rejects.toThrow(/cwd '\/no\/such\/dir': No such file/);
    await expect(agent.client.spawnWorker({ env: { 'A=B': 'x' } })).rejects.toThrow(/env entry 'A=B'/);
    await expect(agent.client.spawnWorker({ caps: ['chown', 'nope'] })).rejects.toThrow(/item 2 of 'caps' is not a capability name/);
    await expect(agent.client.spawnWorker({ unshare: ['pid'] })).rejects.toThrow(/item 1 of 'unshare' must be one of "net"/);
    await expect(agent.client.request('worker_kill', { worker: 1, signal: 'nope' })).rejects.toThrow(/unknown signal 'nope'/);
    await expect(agent.client.exec('true', { worker: 999 })).rejects.toThrow(/worker 999 does not exist/);
  });

  it('ends the workers when the host goes away', async () => {
    const w = await agent.client.spawnWorker();
    await agent.client.close();
    agent.client = await agent.h.connect();
    // the agent kills the worker when the session ends; its reaping is asynchronous
    await agent.client.exec('true');
    for (let i = 0; i < 100 && !gone(w.pid); i++) await agent.client.exec('sleep 0.05');
    expect(gone(w.pid)).toBe(true);
  });
});
