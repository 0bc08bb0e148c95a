import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAgentBuilt } from '@provium/agent';
import { type DoctorCheck, doctor } from '@provium/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('doctor', () => {
  let cacheDir: string;
  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'provium-doctor-'));
    await ensureAgentBuilt();
  });
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  const byName = (checks: DoctorCheck[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

  it('reports the host tools, the accelerator and an unbuilt image', async () => {
    const checks = byName(await doctor({ cacheDir }));
    expect(Object.keys(checks).sort()).toEqual(['accelerator', 'default image', 'qemu', 'setpriv', 'zstd']);
    expect(checks.qemu).toMatchObject({ ok: true, detail: expect.stringMatching(/^qemu-system-x86_64 \d+\.\d+\.\d+/) });
    expect(checks.zstd).toMatchObject({ ok: true, detail: expect.stringMatching(/^zstd \d+\.\d+\.\d+$/) });
    expect(checks.setpriv).toMatchObject({ ok: true, detail: expect.stringMatching(/^setpriv \d+\.\d+/) });
    expect(checks.accelerator.detail).toMatch(/^(KVM|TCG \(.*\))/);
    expect(checks['default image']).toMatchObject({ ok: false, detail: expect.stringMatching(/^not built yet for kernel linux-image-6\.1\.0-\d+-amd64 /), fix: expect.stringContaining('provium prepare') });
  });

  it('says what to install when a tool is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = cacheDir; // an empty directory: no tool is found
    try {
      const checks = byName(await doctor({ cacheDir }));
      expect(checks.qemu).toEqual({ name: 'qemu', ok: false, detail: 'qemu-system-x86_64 not found', fix: 'apt-get install qemu-system-x86' });
      expect(checks.zstd).toMatchObject({ ok: false, fix: 'apt-get install zstd' });
      expect(checks.setpriv).toMatchObject({ ok: false, fix: 'apt-get install util-linux' });
    } finally {
      process.env.PATH = path;
    }
  });
});
