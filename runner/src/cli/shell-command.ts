/** `provium shell SOCKET`: a shell in a running guest, through its agent (line by line: there is no terminal). */
import { connect } from 'node:net';
import { AgentClient } from '@provium/agent';
import { UsageError } from '../errors.js';

export async function shellCommand(socketPath: string): Promise<number> {
  let agent: AgentClient;
  try {
    agent = await AgentClient.connect(connect(socketPath), { handshakeTimeoutMs: 10_000 });
  } catch (e) {
    throw new UsageError(`cannot reach a guest agent at ${socketPath}: ${(e as Error).message}; is the VM still kept by a running provium test --keep-on-failure?`);
  }
  const proc = await agent.spawn(['/bin/sh', '-i']);
  proc.stdout.pipe(process.stdout);
  proc.stderr.pipe(process.stderr);
  const onInput = (d: Buffer) => void proc.write(d).catch(() => {});
  process.stdin.on('data', onInput);
  process.stdin.once('end', () => void proc.closeStdin().catch(() => {}));
  try {
    const exit = await proc.wait();
    return exit.status === 'exited' ? exit.exitCode : 1;
  } finally {
    process.stdin.off('data', onInput);
    process.stdin.pause();
    await agent.close();
  }
}
