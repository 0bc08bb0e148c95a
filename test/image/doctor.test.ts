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

  it('fails the accelerator check on a bad PROVIUM_ACCEL, naming the value', async () => {
    const before = process.env.PROVIUM_ACCEL;
    process.env.PROVIUM_ACCEL = 'fast';
    try {
      const checks = byName(await doctor({ cacheDir }));
      expect(checks.accelerator).toEqual({
        name: 'accelerator', ok: false,
        detail: 'PROVIUM_ACCEL must be "kvm" or "tcg", got "fast": unset it to let Provium choose',
        fix: 'set PROVIUM_ACCEL to kvm or tcg, or unset it',
      });
      process.env.PROVIUM_ACCEL = 'tcg';
      expect(byName(await doctor({ cacheDir })).accelerator).toEqual({ name: 'accelerator', ok: true, detail: 'TCG (PROVIUM_ACCEL=tcg): guests are emulated, several times slower' });
    } finally {
      if (before === undefined) delete process.env.PROVIUM_ACCEL;
      else process.env.PROVIUM_ACCEL = before;
    }
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
