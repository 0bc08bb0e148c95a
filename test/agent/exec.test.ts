import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentError, type ExecTrace } from '@provium/agent';
import { sharedAgent } from './harness.js';

const agent = sharedAgent();

/** 4 MiB cycling through all 256 byte values. */
function allBytes(size = 4 * 1024 * 1024): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

describe('exec', () => {
  it('runs an argv without a shell', async () => {
    const r = await agent.client.exec(['printf', '%s|%s', 'a b', '$HOME']);
    expect(r).toMatchObject({ status: 'exited', exitCode: 0, signal: null, timedOut: false });
    expect(r.stdout.toString()).toBe('a b|$HOME');
    expect(r.stderr.length).toBe(0);
  });

  it('runs a string through sh -c with positional args', async () => {
    const r = await agent.client.exec('echo "$1-$2" >&2; exit 3', { args: ['x y', 'z'] });
    expect(r.status).toBe('exited');
    expect(r.exitCode).toBe(3);
    expect(r.stderr.toString()).toBe('x y-z\n');
  });

  it('passes env and cwd', async () => {
    const r = await agent.client.exec('echo "$GREETING $PWD"', { env: { GREETING: 'hi there' }, cwd: agent.h.dir });
    expect(r.stdout.toString()).toBe(`hi there ${agent.h.dir}\n`);
  });

  it('overrides an inherited variable and uses the requested PATH for lookup', async () => {
    const r = await agent.client.exec(['sh', '-c', 'echo $PATH'], { env: { PATH: '/usr/bin:/bin' } });
    expect(r.stdout.toString()).toBe('/usr/bin:/bin\n');
  });

  it('feeds stdin', async () => {
    const r = await agent.client.exec('tr a-z A-Z', { stdin: 'hello\n' });
    expect(r.stdout.toString()).toBe('HELLO\n');
  });

  it('gives /dev/null as stdin when none is given', async () => {
    const r = await agent.client.exec('cat; echo done');
    expect(r.stdout.toString()).toBe('done\n');
  });

  it('kills the process group on timeout and reports timed_out', async () => {
    const r = await agent.client.exec('echo started; sleep 60 & wait', { timeoutMs: 200 });
    expect(r).toMatchObject({ status: 'timed_out', exitCode: -2, signal: 'kill', timedOut: true });
    expect(r.stdout.toString()).toBe('started\n');
  });

  it('reports a signal by name', async () => {
    const r = await agent.client.exec('kill -USR1 $$');
    expect(r).toMatchObject({ status: 'signalled', exitCode: -1, signal: 'usr1' });
  });

  it('round-trips 4 MiB of every byte value through stdin and stdout', async () => {
    const data = allBytes();
    const r = await agent.client.exec(['cat'], { stdin: data });
    expect(r.stdout.length).toBe(data.length);
    expect(r.stdout.equals(data)).toBe(true);
  });

  it('returns 4 MiB of binary stdout from a file', async () => {
    const data = allBytes();
    const path = join(agent.h.dir, 'blob');
    await agent.client.writeFile(path, data);
    const r = await agent.client.exec(['cat', path]);
    expect(r.stdout.equals(data)).toBe(true);
    expect((await agent.client.readFile(path)).equals(data)).toBe(true);
  });

  it('names the missing program', async () => {
    const err = await agent.client.exec(['/nonexistent/prog']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect((err as AgentError).code).toBe('ENOENT');
    expect((err as AgentError).message).toBe('agent exec "/nonexistent/prog": ENOENT (No such file or directory)');
  });

  it('names a program it may not execute, and a spawn of a missing one; then runs the next command', async () => {
    const path = join(agent.h.dir, 'not-executable');
    await agent.client.writeFile(path, Buffer.from('#!/bin/sh\n'), { mode: 0o644 });
    await expect(agent.client.exec([path])).rejects.toThrow(`agent exec "${path}": EACCES (Permission denied)`);
    await expect(agent.client.spawn(['/nonexistent/prog'])).rejects.toThrow('agent spawn "/nonexistent/prog": ENOENT (No such file or directory)');
    // a failure is reported per launch: the next one starts clean
    expect((await agent.client.exec(['true'])).exitCode).toBe(0);
  });

  it('names the missing working directory', async () => {
    await expect(agent.client.exec('true', { cwd: '/nonexistent-dir' })).rejects.toThrow(
      'agent exec "/nonexistent-dir": ENOENT (No such file or directory)',
    );
  });

  it('is SCHED_BATCH only while an exec runs; the commands keep SCHED_OTHER', async () => {
    // field 41 of /proc/PID/stat is the policy: 0 SCHED_OTHER, 3 SCHED_BATCH; $PPID is the agent
    const policies = 'cut -d" " -f41 /proc/$$/stat /proc/$PPID/stat';
    expect((await agent.client.exec(policies)).stdout.toString()).toBe('0\n3\n');
    const p = await agent.client.spawn(policies);
    const out: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    const ended = new Promise((r) => p.stdout.on('end', r));
    await p.wait();
    await ended;
    expect(Buffer.concat(out).toString()).toBe('0\n0\n');
  });

  it("traces an exec when asked: the client's marks in order, the agent's own timeline inside them", async () => {
    const trace: ExecTrace = {};
    const r = await agent.client.exec('sleep 0.05', { trace });
    expect(r.exitCode).toBe(0);
    const { send, encoded, sent, arrived, decoded, agent: spans } = trace as Required<ExecTrace>;
    const marks = [send, encoded, sent, arrived, decoded];
    expect(marks.every((m) => typeof m === 'number')).toBe(true);
    expect([...marks].sort((a, b) => a - b)).toEqual(marks);
    expect(spans).toEqual({ prep_ns: expect.any(Number), spawn_ns: expect.any(Number), wait_ns: expect.any(Number), reply_ns: expect.any(Number) });
    expect(Object.values(spans).every((ns) => ns >= 0)).toBe(true);
    // the command slept 50 ms between its exec and its exit; all of the agent's time lies within the host's wait
    expect(spans.spawn_ns + spans.wait_ns).toBeGreaterThanOrEqual(50e6);
    expect((spans.prep_ns + spans.spawn_ns + spans.wait_ns + spans.reply_ns) / 1e6).toBeLessThanOrEqual(arrived - encoded);
  });

  it('answers without a trace unless asked', async () => {
    expect((await agent.client.request('exec', { cmd: 'true' })).trace).toBeUndefined();
  });

  it('starts commands with no signal blocked or ignored (the agent blocks SIGPIPE, CHLD and IO for itself)', async () => {
    const r = await agent.client.exec(['grep', '-E', '^Sig(Blk|Ign):', '/proc/self/status']);
    expect(r.stdout.toString()).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  it('answers at the exit though a background process keeps stdout open; that process gets SIGPIPE once it writes', async () => {
    const status = join(agent.h.dir, 'late-writer-status');
    // the inner subshell outlives the command and writes to the closed stdout later; the outer one records how it ended
    const r = await agent.client.exec(`( (sleep 0.5; echo late); echo $? > '${status}' ) & echo started`);
    expect(r.stdout.toString()).toBe('started\n');
    for (let i = 0; i < 200 && !existsSync(status); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readFileSync(status, 'utf8')).toBe('141\n'); // 128 + SIGPIPE
  });

  it('rejects a bad env name with the name', async () => {
    await expect(agent.client.exec('true', { env: { 'A=B': 'x' } })).rejects.toThrow(/env entry 'A=B'/);
  });

  it('serves other requests while an exec runs', async () => {
    const gate = join(agent.h.dir, 'gate');
    let settled = false;
    const long = agent.client.exec(`while [ ! -e '${gate}' ]; do sleep 0.02; done; echo released`).finally(() => {
      settled = true;
    });
    await agent.client.ping();
    await agent.client.stat(agent.h.dir);
    expect(settled).toBe(false);
    await agent.client.writeFile(gate, '');
    expect((await long).stdout.toString()).toBe('released\n');
  });
});

describe('spawn', () => {
  it('streams stdout and stderr, takes stdin, and ends with exit', async () => {
    const p = await agent.client.spawn('while read line; do echo "out:$line"; echo "err:$line" >&2; done; exit 7');
    expect(p.pid).toBeGreaterThan(0);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    const ended = Promise.all([new Promise((r) => p.stdout.on('end', r)), new Promise((r) => p.stderr.on('end', r))]);
    await p.write('one\n');
    await p.write(Buffer.from('two\n'));
    await p.closeStdin();
    expect(await p.wait()).toEqual({ status: 'exited', exitCode: 7, signal: null });
    await ended;
    expect(Buffer.concat(out).toString()).toBe('out:one\nout:two\n');
    expect(Buffer.concat(err).toString()).toBe('err:one\nerr:two\n');
    expect(p.exit?.exitCode).toBe(7);
  });

  it.each([
    ['term', 'term'],
    ['INT', 'int'],
    ['SIGHUP', 'hup'],
    ['usr1', 'usr1'],
    ['kill', 'kill'],
  ])('kills with signal %s', async (given, reported) => {
    const p = await agent.client.spawn(['sleep', '60']);
    expect(await p.kill(given)).toBe(true);
    expect(await p.wait()).toEqual({ status: 'signalled', exitCode: -1, signal: reported });
  });

  it('kills the whole process group of a shell', async () => {
    const p = await agent.client.spawn('sleep 60 & sleep 61 & wait');
    await p.kill('term');
    expect((await p.wait()).status).toBe('signalled');
  });

  it('rejects an unknown signal name', async () => {
    const p = await agent.client.spawn(['sleep', '60']);
    await expect(p.kill('bogus')).rejects.toThrow("unknown signal 'bogus'");
    await p.kill('kill');
    await p.wait();
  });

  it('after exit: kill reports not delivered, write fails, closeStdin is a no-op', async () => {
    const p = await agent.client.spawn(['true']);
    await p.wait();
    expect(await p.kill()).toBe(false);
    await expect(p.write('x')).rejects.toMatchObject({ code: 'EPIPE' });
    await p.closeStdin();
  });

  it('streams 4 MiB of every byte value', async () => {
    const data = allBytes();
    const path = join(agent.h.dir, 'blob-spawn');
    await agent.client.writeFile(path, data);
    const p = await agent.client.spawn(['cat', path]);
    const chunks: Buffer[] = [];
    for await (const chunk of p.stdout) chunks.push(chunk as Buffer);
    expect((await p.wait()).exitCode).toBe(0);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });
});
