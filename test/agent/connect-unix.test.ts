/**
 * AgentClient.connectUnix: the host connects to a listening unix socket, as
 * it does to QEMU's chardev, and reads it without a Readable stream. Here the
 * listener relays to the real host-mode agent, which connects to a socket of
 * its own (harness.ts).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, AgentConnectionLostError } from '@provium/agent';
import { startAgent, type AgentHarness } from './harness.js';

let h: AgentHarness;
let relay: Server;
let relayPath: string;
/** The host's side of each relayed connection, as accepted. */
const hostSides: Socket[] = [];

beforeAll(async () => {
  h = await startAgent();
  relayPath = join(h.dir, 'chardev.sock');
  relay = createServer((host) => {
    hostSides.push(host);
    void h.nextConnection().then((agent) => {
      host.pipe(agent);
      agent.pipe(host);
      host.on('close', () => agent.destroy());
    });
  });
  await new Promise<void>((resolve) => relay.listen(relayPath, resolve));
});

afterAll(async () => {
  for (const s of hostSides) s.destroy();
  await new Promise((resolve) => relay?.close(resolve));
  await h?.stop();
});

/** 1 MiB that is not the same in any two 64 KiB reads. */
function distinctBytes(size = 1024 * 1024): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 13 + (i >> 16)) & 0xff;
  return b;
}

describe('AgentClient.connectUnix', () => {
  it('runs commands, and gets answers that span many reads intact', async () => {
    const client = await AgentClient.connectUnix(relayPath);
    try {
      expect(client.agentPid).toBeGreaterThan(0);
      expect((await client.exec('echo "$1"', { args: ['over the socket'] })).stdout.toString()).toBe('over the socket\n');
      const data = distinctBytes();
      const file = join(h.dir, 'big');
      await client.writeFile(file, data);
      // read twice at once: the second answer arrives while the first one's bytes are still held
      const [a, b] = await Promise.all([client.readFile(file), client.readFile(file)]);
      expect(a.equals(data) && b.equals(data)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('sees the far side close: pending requests reject and the client emits close', async () => {
    const client = await AgentClient.connectUnix(relayPath);
    const closed = new Promise<string>((resolve) => client.once('close', resolve));
    const pending = client.exec('sleep 30');
    await client.ping();
    hostSides.at(-1)!.destroy();
    await expect(pending).rejects.toBeInstanceOf(AgentConnectionLostError);
    expect(await closed).toMatch(/closed/);
  });

  it('fails the handshake with the socket error when nothing listens there', async () => {
    await expect(AgentClient.connectUnix(join(h.dir, 'nobody.sock'), { handshakeTimeoutMs: 5_000 })).rejects.toThrow(/ENOENT/);
  });
});
