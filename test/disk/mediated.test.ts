/**
 * A mediated disk under the real default guest: QEMU's NBD client on the
 * disk thread's socket, a virtio disk in the guest, guest I/O through dd.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '@provium/agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskService, type DiskClient, type MediatedDisk } from '../../packages/disk/src/index.js';
import { prepareDefaultImage } from '../../packages/image/src/index.js';
import { launchQemu, type QemuProcess } from '../../packages/qemu/src/index.js';

const MARK = 'provium-mediated-disk';
let dir: string;
let image: string;
let service: DiskService;
let client: DiskClient;
let disk: MediatedDisk;
let qemu: QemuProcess;
let agent: AgentClient;

beforeAll(async () => {
  const guest = await prepareDefaultImage();
  dir = mkdtempSync(join(tmpdir(), 'pvdisk-e2e-'));
  image = join(dir, 'data.img');
  const fd = openSync(image, 'w');
  writeSync(fd, MARK, 0);
  closeSync(fd);
  truncateSync(image, 64 * 1024 * 1024);
  service = await DiskService.start();
  client = service.client();
  disk = await client.start(image, join(dir, 'data.sock'), { name: 'data' });
  qemu = await launchQemu({
    name: 'mediated', memoryMiB: 192, runtimeRoot: dir, kernel: guest.kernel, initrd: guest.initrd, append: guest.cmdline, extraArgs: disk.qemuArgs('data'),
  });
  agent = await AgentClient.connect(connect(qemu.agentSocketPath), { handshakeTimeoutMs: 120_000 });
});

afterAll(async () => {
  await qemu?.kill();
  await client?.close();
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function sh(cmd: string): Promise<{ code: number; out: string; err: string }> {
  const r = await agent.exec(cmd, { timeoutMs: 120_000 });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe('mediated disk in the default guest', () => {
  it('is the guest\'s /dev/vda, with the image\'s content and a write-back cache', async () => {
    expect((await sh('cat /sys/block/vda/size /sys/block/vda/queue/write_cache')).out).toBe(`${(64 * 1024 * 1024) / 512}\nwrite back\n`);
    expect((await sh(`dd if=/dev/vda bs=512 count=1 iflag=direct 2>/dev/null | head -c ${MARK.length}`)).out).toBe(MARK);
  });

  it('a guest write reaches the image once the guest syncs it', async () => {
    const r = await sh('printf from-the-guest | dd of=/dev/vda bs=512 seek=8 conv=sync,fsync');
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(image).subarray(4096, 4096 + 14).toString()).toBe('from-the-guest');
    const stats = await disk.stats();
    expect(stats.flushes).toBeGreaterThanOrEqual(1);
    expect(stats.unflushed_bytes).toBe(0);
  });

  it('fail_reads gives the guest EIO; after clearPolicy the same dd succeeds, without a reboot', async () => {
    const dd = 'dd if=/dev/vda of=/dev/null bs=4k count=1 skip=100 iflag=direct';
    const boot = (await sh('cat /proc/sys/kernel/random/boot_id')).out;
    expect((await sh(dd)).code).toBe(0);
    const failedBefore = (await disk.stats()).failed;
    await disk.failReads();
    const failed = await sh(dd);
    expect(failed.code).not.toBe(0);
    expect(failed.err).toContain('Input/output error');
    expect((await disk.stats()).failed).toBeGreaterThan(failedBefore);
    expect(await disk.clearPolicy()).toEqual({ fail_reads: false, fail_writes: false });
    const again = await sh(dd);
    expect(again.code, again.err).toBe(0);
    expect((await sh('cat /proc/sys/kernel/random/boot_id')).out).toBe(boot);
  });

  it('fail_writes gives the guest EIO on a direct write; clearing it lets the write through', async () => {
    const dd = 'dd if=/dev/zero of=/dev/vda bs=4k count=1 seek=300 oflag=direct conv=fsync';
    await disk.failWrites();
    const failed = await sh(dd);
    expect(failed.code).not.toBe(0);
    expect(failed.err).toContain('Input/output error');
    await disk.clearPolicy();
    const again = await sh(dd);
    expect(again.code, again.err).toBe(0);
  });
});
