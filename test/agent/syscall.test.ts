/**
 * The agent's syscall, syscall_cancel and read_mem ops on the host-mode agent
 * (harness.ts): only calls that are harmless on the host are made; the
 * refused ones never reach the kernel. The guest-side suite with the fuzz is
 * test/vm/syscall.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readMem, syscall, syscallAsync } from '@provium/agent';
import { sharedAgent } from './harness.js';

const agent = sharedAgent();

describe('the syscall op', () => {
  it('returns the raw value, errno and the buffers after the call', async () => {
    expect((await syscall(agent.client, { nr: 39, args: [] })).ret).toBe(agent.client.agentPid);
    const uname = await syscall(agent.client, { nr: 63, args: [], bufs: [390], ptrs: [0] });
    expect(uname.outBufs[0].subarray(0, 6).toString()).toBe('Linux\0');
    expect(await syscall(agent.client, { nr: 3, args: [-1n] })).toEqual({ ret: -1, errno: 9, outBufs: [] });
  });

  it('a kernel that writes past a buffer gets EFAULT, and the agent.client carries on', async () => {
    expect(await syscall(agent.client, { nr: 63, args: [], bufs: [8], ptrs: [0] })).toMatchObject({ ret: -1, errno: 14 });
    expect((await agent.client.exec('echo alive')).stdout.toString()).toBe('alive\n');
  });

  it('refuses what would end or cripple the agent.client, saying why', async () => {
    await expect(syscall(agent.client, { nr: 231, args: [0n] })).rejects.toThrow(/exit_group is refused: it would end the agent/);
    await expect(syscall(agent.client, { nr: 3, args: [1n] })).rejects.toThrow(/argument 1 is descriptor 1, one of the agent's own/);
    await expect(syscall(agent.client, { nr: 62, args: [BigInt(agent.client.agentPid), 9n] })).rejects.toThrow(/reach the agent/);
    await expect(syscall(agent.client, { nr: 11, args: [0x10000n, 4096n] })).rejects.toThrow(/not inside a mapping/);
  });

  it('munmap is allowed on what an earlier mmap made, and read_mem reads it until then', async () => {
    const addr = BigInt((await syscall(agent.client, { nr: 9, args: [0n, 4096n, 3n, 0x22n, -1n, 0n] })).ret);
    expect(await syscall(agent.client, { nr: 63, args: [addr] })).toMatchObject({ ret: 0 });
    expect((await readMem(agent.client, addr, 5)).toString()).toBe('Linux');
    expect((await syscall(agent.client, { nr: 11, args: [addr, 4096n] })).ret).toBe(0);
    expect(await readMem(agent.client, addr, 5)).toEqual({ errno: 14 });
  });

  it('a sync call is interrupted at its timeout; an async one when cancelled', async () => {
    expect(await syscall(agent.client, { nr: 34, args: [], timeoutMs: 100 })).toMatchObject({ ret: -1, errno: 4 });
    const paused = syscallAsync(agent.client, { nr: 34, args: [] });
    expect((await syscall(agent.client, { nr: 39, args: [] })).ret).toBe(agent.client.agentPid); // served meanwhile
    await paused.cancel();
    expect(await paused.result).toMatchObject({ ret: -1, errno: 4 });
  });
});
