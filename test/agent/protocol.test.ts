import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_MAGIC, PROTOCOL_VERSION, type AgentOp } from '@provium/types/agent-protocol';
import {
  AgentClient,
  AgentConnectionLostError,
  AgentProtocolVersionError,
  AgentTimeoutError,
  agentBinaryPath,
  decodeValue,
  encodeFrame,
  encodeValue,
  ensureAgentBuilt,
  FrameDecoder,
  type Value,
} from '@provium/agent';
import { startAgent, type AgentHarness } from './harness.js';

const harnesses: AgentHarness[] = [];
async function agent(...args: Parameters<typeof startAgent>): Promise<AgentHarness> {
  const h = await startAgent(...args);
  harnesses.push(h);
  return h;
}

afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.stop()));
});

function frame(msg: Value): Buffer {
  return encodeFrame(encodeValue(msg));
}

/** Reads the next `count` messages from a raw socket. */
function readMessages(socket: Socket, count: number): Promise<Array<{ [key: string]: Value }>> {
  const decoder = new FrameDecoder();
  const got: Array<{ [key: string]: Value }> = [];
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      for (const f of decoder.push(chunk).frames) got.push(decodeValue(f) as { [key: string]: Value });
      if (got.length >= count) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`socket closed after ${got.length} of ${count} messages`)));
  });
}

function notices(client: AgentClient): string[] {
  const seen: string[] = [];
  client.on('notice', (n: string) => seen.push(n));
  return seen;
}

describe('build', () => {
  it('ensureAgentBuilt returns the static binary at agentBinaryPath', async () => {
    const path = await ensureAgentBuilt();
    expect(path).toBe(agentBinaryPath());
    expect(path.endsWith('packages/agent/dist/provium-agent')).toBe(true);
    const { stdout } = await promisify(execFile)(path, ['--version']);
    expect(stdout).toBe(`provium-agent protocol ${PROTOCOL_VERSION}\n`);
    const elf = await readFile(path);
    // a static executable has no PT_INTERP program header (no dynamic loader)
    expect(elf.includes(Buffer.from('/lib64/ld-linux-x86-64.so.2'))).toBe(false);
  });

  it('does not rebuild an up-to-date binary', async () => {
    const before = (await stat(await ensureAgentBuilt())).mtimeMs;
    // exits non-zero (and the promise rejects) when make would rebuild
    await promisify(execFile)('make', ['-C', dirname(dirname(agentBinaryPath())), '--question']);
    expect((await stat(await ensureAgentBuilt())).mtimeMs).toBe(before);
  });

  it('a failing build names the packages it needs', async () => {
    // fault injection: no make/gcc on PATH, in a fresh process (ensureAgentBuilt memoizes)
    const script = "import('@provium/agent').then((m) => m.ensureAgentBuilt()).catch((e) => { console.log(e.message); })";
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: '/nonexistent' },
      cwd: dirname(dirname(dirname(agentBinaryPath()))),
    });
    expect(stdout).toContain('building the provium agent failed (make -C ');
    expect(stdout).toContain('apt-get install gcc make libc6-dev');
  });

  it('the agent rejects unknown arguments with usage', async () => {
    const err = await promisify(execFile)(agentBinaryPath(), ['--bogus']).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain("unknown argument '--bogus'");
  });
});

describe('handshake', () => {
  it('answers requests before the handshake with EPROTO, then accepts a client', async () => {
    const h = await agent();
    const socket = await h.nextConnection();
    const replies = readMessages(socket, 1);
    socket.write(frame({ t: 'req', id: 41, op: 'ping' }));
    const [reply] = await replies;
    expect(reply).toMatchObject({ t: 'res', id: 41, ok: false, error: { code: 'EPROTO' } });
    const client = await AgentClient.connect(socket);
    await client.ping();
    expect(client.agentPid).toBe(h.agent.pid);
  });

  it('refuses a protocol version mismatch on both sides', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'provium-agent-variant-'));
    try {
      const binary = join(dir, 'provium-agent-v999');
      await promisify(execFile)('make', ['-s', '-C', dirname(dirname(agentBinaryPath())), `OUT=${binary}`, 'EXTRA_CFLAGS=-DAGENT_PROTOCOL_VERSION=999']);
      const h = await agent({ binary });
      const err = await h.connect().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AgentProtocolVersionError);
      expect((err as Error).message).toBe(
        `agent protocol version 999, host expects ${PROTOCOL_VERSION}: rebuild the image with \`provium prepare\``,
      );
      const log = await readFile(h.logPath, 'utf8');
      expect(log).toContain(`handshake refused: host speaks protocol version ${PROTOCOL_VERSION}, agent 999`);
      // the agent carries on: it reconnects and still refuses to serve without a session
      const socket = await h.nextConnection();
      const replies = readMessages(socket, 1);
      socket.write(frame({ t: 'req', id: 1, op: 'ping' }));
      expect((await replies)[0]).toMatchObject({ ok: false, error: { code: 'EPROTO' } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('copes with hellos queued before the agent reads (QEMU accepts before the guest opens the port)', async () => {
    const binary = await ensureAgentBuilt();
    const dir = await mkdtemp(join(tmpdir(), 'provium-agent-late-'));
    const gate = join(dir, 'gate');
    const logPath = join(dir, 'agent.log');
    // the agent starts only once the gate exists; until then hellos pile up in its stdin
    const child = spawn('sh', ['-c', `while [ ! -e '${gate}' ]; do sleep 0.02; done; exec '${binary}' --stdio --log '${logPath}'`], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let writes = 0;
    const duplex = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        writes++;
        if (writes === 3) void writeFile(gate, '');
        child.stdin.write(chunk, callback);
      },
      final(callback) {
        child.stdin.end(callback);
      },
    });
    child.stdout.on('data', (d: Buffer) => duplex.push(d));
    child.stdout.on('end', () => duplex.push(null));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const client = await AgentClient.connect(duplex, { helloIntervalMs: 20 });
      expect(writes).toBeGreaterThanOrEqual(3);
      await client.ping();
      const log = (await client.agentLog()).toString();
      // repeated hellos of one client do not start new sessions
      expect(log.match(/handshake: protocol version/g)).toHaveLength(1);
      child.stdin.end();
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('times out with a message naming the agent command when nobody answers', async () => {
    const silent = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    await expect(AgentClient.connect(silent, { handshakeTimeoutMs: 100, helloIntervalMs: 20 })).rejects.toThrow(
      /agent did not answer the handshake within 100 ms: is the guest running `provium-agent --port org\.provium\.agent`\?/,
    );
    expect(silent.destroyed).toBe(true);
  });
});

describe('bad frames', () => {
  let h: AgentHarness;
  let socket: Socket;
  let client: AgentClient;
  let seen: string[];

  beforeAll(async () => {
    h = await startAgent();
    socket = await h.nextConnection();
    client = await AgentClient.connect(socket);
    seen = notices(client);
  });

  afterAll(async () => {
    await h.stop();
  });

  it('skips garbage and resynchronises on the next frame', async () => {
    socket.write(Buffer.from('this is garbage!\n'));
    await client.ping();
    expect(seen.pop()).toBe('agent: skipped 17 bytes that were not a frame (bad magic); resynchronised');
  });

  it('garbage containing a partial magic does not swallow the next frame', async () => {
    socket.write(Buffer.concat([Buffer.from('xxPV'), Buffer.from(FRAME_MAGIC.subarray(0, 3))]));
    await client.ping();
    expect(seen.pop()).toMatch(/skipped 7 bytes/);
  });

  it('reports an undecodable payload and carries on', async () => {
    socket.write(encodeFrame(Buffer.from([0x07, 0xff, 0xff])));
    await client.ping();
    expect(seen.pop()).toBe('agent: undecodable frame of 3 bytes (value truncated): skipped');
  });

  it('reports an oversized length and resynchronises', async () => {
    const header = Buffer.alloc(8);
    Buffer.from(FRAME_MAGIC).copy(header);
    header.writeUInt32BE(0xffffffff, 4);
    socket.write(header);
    await client.ping();
    const [oversized, skipped] = seen.splice(0);
    expect(oversized).toBe('agent: frame of 4294967295 bytes exceeds the limit of 134217728; skipped');
    expect(skipped).toMatch(/skipped 7 bytes/);
  });

  it('reports messages that are not requests', async () => {
    socket.write(frame([1, 2, 3]));
    socket.write(frame({ t: 'req', op: 'ping' }));
    socket.write(frame({ t: 'req', id: -1, op: 'ping' })); // negative ids are the agent's own (batch)
    socket.write(frame({ t: 'shout' }));
    socket.write(frame({ t: 'hello', version: PROTOCOL_VERSION }));
    await client.ping();
    expect(seen.splice(0)).toEqual([
      "agent: frame is not a message map with a 't' string: skipped",
      "agent: request without a non-negative integer 'id': ignored",
      "agent: request without a non-negative integer 'id': ignored",
      "agent: unknown message type 'shout': skipped",
      "agent: hello without a non-negative integer 'nonce': ignored",
    ]);
  });

  it('answers an unknown op and a mistyped argument with errors', async () => {
    await expect(client.request('format_disk' as AgentOp, {} as never)).rejects.toMatchObject({ code: 'ENOSYS' });
    await expect(client.request('stat', { path: 42 as unknown as string })).rejects.toThrow(
      "agent stat: EINVAL (argument 'path' must be a string, got int)",
    );
    await expect(client.request('stat', {} as never)).rejects.toThrow("missing argument 'path'");
  });
});

describe('connection loss and reconnection', () => {
  it('reconnects after the host drops the connection; processes keep running', async () => {
    const h = await agent();
    const first = await h.connect();
    const pidFile = join(h.dir, 'daemon.pid');
    await first.spawn(`echo $$ > '${pidFile}'; exec sleep 60`);
    const started = await first.exec(`while [ ! -s '${pidFile}' ]; do sleep 0.02; done; cat '${pidFile}'`);
    const daemonPid = started.stdout.toString().trim();
    await first.close();
    await expect(first.ping()).rejects.toThrow("agent connection lost before 'ping' was sent: closed by the host");

    const second = await h.connect();
    expect(second.agentPid).toBe(first.agentPid);
    await second.ping();
    expect((await second.exec(['kill', '-0', daemonPid])).exitCode).toBe(0);
    await second.exec(['kill', daemonPid]);
    const log = (await second.agentLog()).toString();
    expect(log).toContain('connection down: host closed the connection (EOF)');
    expect(log).toMatch(/keeps running without a host/);
    await second.close();
  });

  it('rejects pending requests and running processes with "agent connection lost"', async () => {
    const h = await agent();
    const client = await h.connect();
    const pidFile = join(h.dir, 'exec.pid');
    const proc = await client.spawn(['sleep', '60']);
    const pending = client.exec(`echo $$ > '${pidFile}'; exec sleep 60`);
    // the exec runs while this second one waits for its pid file
    const execPid = Number((await client.exec(`while [ ! -s '${pidFile}' ]; do sleep 0.02; done; cat '${pidFile}'`)).stdout);
    const closed = new Promise((resolve) => client.once('close', resolve));
    h.agent.kill('SIGKILL');
    await expect(pending).rejects.toBeInstanceOf(AgentConnectionLostError);
    await expect(pending).rejects.toThrow(/^agent connection lost while waiting for 'exec' \(request \d+\): /);
    await expect(proc.wait()).rejects.toThrow(/agent connection lost while process \d+ \(pid \d+\) was running/);
    // the handle is ended, not merely quiet: both streams reach their end, and it takes no more requests
    for (const stream of [proc.stdout, proc.stderr]) {
      stream.resume();
      await finished(stream);
    }
    await expect(proc.kill()).rejects.toThrow(/^agent connection lost before 'proc_kill' was sent: /);
    await closed;
    // orphans of the killed agent: each leads its own process group
    process.kill(-execPid, 'SIGKILL');
    process.kill(-proc.pid, 'SIGKILL');
  });

  it('times out a request that gets no answer and ignores the late answer', async () => {
    const h = await agent();
    const client = await h.connect({ requestTimeoutMs: 100 });
    const proc = await client.spawn(['sleep', '60']);
    // 1 MiB into a pipe nobody reads: the write cannot complete
    const err = await proc.write(Buffer.alloc(1024 * 1024)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentTimeoutError);
    expect((err as Error).message).toMatch(/^agent request 'proc_write' \(request \d+\) got no answer within 100 ms$/);
    await proc.kill('kill');
    await proc.wait();
    await client.ping(); // the late EPIPE answer to the write was dropped quietly
  });
});

describe('clock, log and stdio mode', () => {
  it('reads the clock; setting it without CAP_SYS_TIME fails with EPERM', async () => {
    const wrapper = process.getuid?.() === 0 ? ['setpriv', '--bounding-set', '-sys_time'] : [];
    const h = await agent({ wrapper });
    const client = await h.connect();
    const before = Date.now() / 1000;
    const t = await client.getClock();
    const after = Date.now() / 1000;
    expect(t).toBeGreaterThanOrEqual(before - 0.001);
    expect(t).toBeLessThanOrEqual(after + 0.001);
    await expect(client.setClock(t)).rejects.toThrow('agent clock_set: EPERM (Operation not permitted)');
    await expect(client.setClock(Number.NaN)).rejects.toThrow('setClock: time must be a finite number of seconds, got NaN');
    await client.close();
  });

  it('returns its log', async () => {
    const h = await agent();
    const client = await h.connect();
    await client.exec('true');
    const log = (await client.agentLog()).toString();
    expect(log).toContain(`provium-agent starting: pid ${h.agent.pid}, protocol ${PROTOCOL_VERSION}, unix socket`);
    expect(log).toContain(`handshake: protocol version ${PROTOCOL_VERSION}`);
    expect(log).toMatch(/exec: started process \d+ \(pid \d+\): \/bin\/sh/);
    expect(log).toBe(await readFile(h.logPath, 'utf8'));
    await client.close();
  });

  it('keeps its log under 1 MiB: a line that would pass the limit empties the file first', async () => {
    const limit = 1024 * 1024;
    const h = await agent({ logContent: 'old line\n'.repeat((limit - 4000) / 9) });
    const client = await h.connect();
    // the agent learns the size once, then counts its own lines (two per exec)
    for (let i = 0; i < 40; i++) await client.exec(['true']);
    const log = await readFile(h.logPath, 'utf8');
    expect(log.length).toBeLessThan(limit);
    expect(log).not.toContain('old line');
    expect(log).toMatch(/^\[log truncated at 1 MiB\]\n/);
    expect(log).toMatch(/exec: started process \d+ \(pid \d+\): true\n/);
    await client.close();
  });

  it('serves on stdin/stdout and exits at EOF', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'provium-agent-stdio-'));
    const child = spawn(await ensureAgentBuilt(), ['--stdio', '--log', join(dir, 'log')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const client = await AgentClient.connect(Duplex.from({ readable: child.stdout, writable: child.stdin }));
      expect((await client.exec('echo via stdio')).stdout.toString()).toBe('via stdio\n');
      child.stdin.end();
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
