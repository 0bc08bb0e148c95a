/**
 * Runs the real agent binary on the host in its `--connect-unix` mode: the
 * test listens on a unix socket (as QEMU's chardev would) and the agent
 * connects to it, reconnecting whenever the host drops the connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { AgentClient, ensureAgentBuilt, type AgentClientOptions } from '@provium/agent';

export interface AgentHarness {
  dir: string;
  logPath: string;
  agent: ChildProcess;
  /** Resolves with the next connection the agent makes. */
  nextConnection(): Promise<Socket>;
  /** Waits for the agent's next connection and performs the handshake on it. */
  connect(options?: AgentClientOptions): Promise<AgentClient>;
  /** Kills the agent and whatever it started, closes the server, removes the directory. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Another build of the agent (e.g. a protocol-version variant). */
  binary?: string;
  /** Command prefix, e.g. setpriv to drop a capability. */
  wrapper?: string[];
  /** What the log file holds before the agent starts (it appends). */
  logContent?: string;
}

export async function startAgent(options: StartOptions = {}): Promise<AgentHarness> {
  const binary = options.binary ?? (await ensureAgentBuilt());
  const dir = await mkdtemp(join(tmpdir(), 'provium-agent-test-'));
  const socketPath = join(dir, 'agent.sock');
  const logPath = join(dir, 'agent.log');
  if (options.logContent !== undefined) await writeFile(logPath, options.logContent);
  const waiting: Array<(s: Socket) => void> = [];
  const queued: Socket[] = [];
  const accepted: Socket[] = [];
  const server: Server = createServer((socket) => {
    accepted.push(socket);
    const w = waiting.shift();
    if (w) w(socket);
    else queued.push(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  const argv = [...(options.wrapper ?? []), binary, '--connect-unix', socketPath, '--log', logPath];
  const agent = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => agent.once('exit', () => resolve()));

  const nextConnection = (): Promise<Socket> => {
    const s = queued.shift();
    if (s) return Promise.resolve(s);
    return new Promise((resolve, reject) => {
      waiting.push(resolve);
      void exited.then(() => reject(new Error(`agent exited (code ${agent.exitCode}, signal ${agent.signalCode}) before connecting`)));
    });
  };

  return {
    dir,
    logPath,
    agent,
    nextConnection,
    connect: async (clientOptions) => AgentClient.connect(await nextConnection(), clientOptions),
    stop: async () => {
      if (agent.exitCode === null && agent.signalCode === null && agent.pid !== undefined) {
        // the agent's children run in their own sessions: kill their groups too
        for (const child of await childrenOf(agent.pid)) {
          try {
            process.kill(-child, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        agent.kill('SIGKILL');
      }
      await exited;
      for (const s of accepted) s.destroy();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // fields after the parenthesised command: state ppid ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** The agent and the client a whole test file shares: started before its tests, stopped after them. */
export interface SharedAgent {
  readonly h: AgentHarness;
  readonly client: AgentClient;
}

/** Registers the file's beforeAll/afterAll for one shared agent; the fields are set once beforeAll ran. */
export function sharedAgent(): SharedAgent {
  const shared = {} as { h: AgentHarness; client: AgentClient };
  beforeAll(async () => {
    shared.h = await startAgent();
    shared.client = await shared.h.connect();
  });
  afterAll(async () => {
    await shared.client?.close();
    await shared.h?.stop();
  });
  return shared;
}
