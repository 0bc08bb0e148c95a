/**
 * The agent's `batch` op through AgentClient.batch, against the real agent
 * binary on the host (harness.ts): ops in order, each answered on its own,
 * execs waited for without blocking other requests, and a batch dropped
 * with its session.
 */
import { stat as hostStat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AgentError, type AgentClient, type BatchOutcome } from '@provium/agent';
import { sharedAgent } from './harness.js';

const agent = sharedAgent();
let root: string;

beforeAll(async () => {
  root = join(agent.h.dir, 'batch');
  await agent.client.mkdir(root);
});

const errorOf = (o: BatchOutcome) => (o.ok ? undefined : o.error);

describe('batch', () => {
  it('runs mixed ops in order, one outcome each, and a failure does not stop the rest', async () => {
    const f = join(root, 'f');
    const out = await agent.client.batch([
      { op: 'write_file', path: f, data: 'one\n' },
      { op: 'exec', command: 'echo two >> "$1"; exit 3', options: { args: [f] } },
      { op: 'read_file', path: f },
      { op: 'stat', path: join(root, 'missing') },
      { op: 'mkdir', path: join(root, 'd'), mode: 0o777 },
      { op: 'rename', from: f, to: join(root, 'd', 'g') },
      { op: 'listdir', path: join(root, 'd') },
      { op: 'stat', path: join(root, 'd', 'g') },
      { op: 'unlink', path: join(root, 'd', 'g') },
    ]);
    expect(out.map((o) => [o.op, o.ok])).toEqual([
      ['write_file', true], ['exec', true], ['read_file', true], ['stat', false], ['mkdir', true],
      ['rename', true], ['listdir', true], ['stat', true], ['unlink', true],
    ]);
    const [, exec, read, missing, , , list, st] = out;
    expect(exec.ok && exec.op === 'exec' && [exec.value.exitCode, exec.value.status]).toEqual([3, 'exited']);
    expect(read.ok && read.op === 'read_file' && read.value.toString()).toBe('one\ntwo\n');
    expect(errorOf(missing)).toBeInstanceOf(AgentError);
    expect(errorOf(missing)?.code).toBe('ENOENT');
    expect(list.ok && list.value).toEqual([{ name: 'g', entryType: 'file' }]);
    expect(st.ok && st.op === 'stat' && st.value.size).toBe(8);
    // an explicit mode applies exactly, past the agent's umask
    expect((await hostStat(join(root, 'd'))).mode & 0o7777).toBe(0o777);
  });

  it('answers an empty batch with no results, and an op a batch cannot hold with an error in its place', async () => {
    expect(await agent.client.batch([])).toEqual([]);
    const { results } = await agent.client.request('batch', { ops: [{ op: 'ping' }, { op: 'stat', path: root }] } as never);
    expect(results.map((r) => r.ok)).toEqual([false, true]);
    expect(results[0].ok === false && results[0].error).toMatchObject({ code: 'ENOSYS', message: expect.stringContaining("'ping' cannot run in a batch") });
  });

  it('runs a syscall op sync, on the main thread, its failure an ok answer; an async one is refused', async () => {
    const out = await agent.client.batch([
      { op: 'syscall', call: { nr: 39, args: [] } },
      { op: 'syscall', call: { nr: 3, args: [-1n] } },
      { op: 'syscall', call: { nr: 63, args: [], bufs: [390], ptrs: [0] } },
    ]);
    expect(out.map((o) => o.ok && o.op === 'syscall' && [o.value.ret, o.value.errno])).toEqual([[agent.client.agentPid, 0], [-1, 9], [0, 0]]);
    const uname = out[2];
    expect(uname.ok && uname.op === 'syscall' && uname.value.outBufs[0].subarray(0, 6).toString()).toBe('Linux\0');
    const { results } = await agent.client.request('batch', { ops: [{ op: 'syscall', nr: 39, async: true, call: 1 }] } as never);
    expect(results[0].ok === false && results[0].error).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('async call cannot run in a batch') });
  });

  it('serves other requests while a batch waits for its exec', async () => {
    const flag = join(root, 'flag');
    // The exec ends only once the host has written the flag with a request of its own.
    const batch = agent.client.batch([
      { op: 'exec', command: 'while [ ! -e "$1" ]; do sleep 0.02; done; echo seen', options: { args: [flag] } },
      { op: 'read_file', path: flag },
    ]);
    await agent.client.writeFile(flag, 'up');
    const [exec, read] = await batch;
    expect(exec.ok && exec.op === 'exec' && exec.value.stdout.toString()).toBe('seen\n');
    expect(read.ok && read.op === 'read_file' && read.value.toString()).toBe('up');
  });

  it('drops a batch with its session: its later ops never run', async () => {
    const [gate, pidFile, after] = ['gate', 'pid', 'after'].map((n) => join(root, n));
    const pending = agent.client.batch([
      { op: 'exec', command: 'echo $$ > "$2"; while [ ! -e "$1" ]; do sleep 0.02; done', options: { args: [gate, pidFile] } },
      { op: 'write_file', path: after, data: 'x' },
    ]);
    const lost = expect(pending).rejects.toThrow(/agent connection lost/);
    await agent.client.close();
    await lost;
    agent.client = await agent.h.connect();
    await agent.client.exec('while [ ! -s "$1" ]; do sleep 0.02; done', { args: [pidFile] });
    await agent.client.writeFile(gate, '');
    // Until the agent has reaped the orphaned exec: a batch still alive would have run its next op by the answer to this.
    await agent.client.exec('while kill -0 "$(cat "$1")" 2>/dev/null; do sleep 0.02; done', { args: [pidFile] });
    expect((await agent.client.stat(after).catch((e: AgentError) => e)) as AgentError).toMatchObject({ code: 'ENOENT' });
    // and the new session's batches get their own answers
    const [st] = await agent.client.batch([{ op: 'stat', path: gate }]);
    expect(st.ok && st.op === 'stat' && st.value.entryType).toBe('file');
  });
});
