/**
 * provium.toml profiles resolved against real files: paths, cmdline files,
 * build commands, and inject_agent's appended cpio segment read back with
 * gzip and GNU cpio.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ensureAgentBuilt } from '@provium/agent';
import { type ProjectConfigSource, cpioNewc, resolveProfile } from '@provium/image';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('profiles of provium.toml', () => {
  let project: string;
  let cacheDir: string;
  let file: string;
  const config = (profiles: Record<string, unknown>): ProjectConfigSource => ({ file, toml: { provium: { roots: ['tests'] }, profiles } });

  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'provium-profiles-'));
    cacheDir = join(project, 'cache');
    file = join(project, 'provium.toml');
    mkdirSync(join(project, 'boot'));
    writeFileSync(join(project, 'boot', 'bzImage'), 'not really a kernel, but a file');
    // An uncompressed initramfs of odd length, so the appended segment needs padding.
    writeFileSync(join(project, 'boot', 'initrd.cpio'), Buffer.concat([cpioNewc([{ type: 'file', path: 'init', mode: 0o755, data: Buffer.from('#!/bin/sh\n') }]), Buffer.from([0])]).subarray(0, -1));
    writeFileSync(join(project, 'boot', 'cmdline'), 'console=ttyS0\n  root=/dev/vda\n');
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('gives a profile whose kernel is a bzImage that file as its bzImage (kernel_format = "bzimage")', async () => {
    const header = Buffer.alloc(0x400);
    header.write('HdrS', 0x202, 'latin1');
    writeFileSync(join(project, 'boot', 'header-only-bzImage'), header);
    const profile = await resolveProfile('bz', config({ bz: { kernel: 'boot/header-only-bzImage', initrd: 'boot/initrd.cpio' } }), { cacheDir });
    expect(profile.bzImage).toBe(join(project, 'boot/header-only-bzImage'));
  });

  it('resolves kernel, initrd and cmdline_file relative to provium.toml', async () => {
    const profile = await resolveProfile('tiny', config({ tiny: { kernel: 'boot/bzImage', initrd: 'boot/initrd.cpio', cmdline_file: 'boot/cmdline', memory: '1G', cpus: 2 } }), { cacheDir });
    expect(profile).toMatchObject({
      name: 'tiny',
      kernel: join(project, 'boot/bzImage'),
      initrd: join(project, 'boot/initrd.cpio'),
      cmdline: 'console=ttyS0 root=/dev/vda',
      memory: 1024 ** 3,
      cpus: 2,
      source: file,
    });
    expect(profile.manifest).toBeUndefined();
    // Not a bzImage (no "HdrS" at 0x202): kernel_format = "bzimage" has nothing to boot.
    expect(profile.bzImage).toBeUndefined();
    const other = await resolveProfile('tiny', config({ tiny: { kernel: 'boot/bzImage', initrd: 'boot/initrd.cpio', cmdline: 'console=ttyS0' } }), { cacheDir });
    expect(other.cmdline).toBe('console=ttyS0');
    expect(other.memory).toBe(256 * 1024 * 1024);
    expect(other.identity).not.toBe(profile.identity);
  });

  it('reports unknown profiles and missing files with the file at fault', async () => {
    await expect(resolveProfile('nope', config({ tiny: { kernel: 'k', initrd: 'i' } }), { cacheDir })).rejects.toThrow(
      `unknown profile "nope" in ${file}; known profiles: "default", "debian", "tiny". Define it as [profiles.nope] in provium.toml`,
    );
    await expect(resolveProfile('nope', undefined, { cacheDir })).rejects.toThrow('unknown profile "nope" (no provium.toml was loaded); known profiles: "default", "debian". Define it as [profiles.nope] in provium.toml');
    await expect(resolveProfile('tiny', config({ tiny: { kernel: 'boot/missing', initrd: 'boot/initrd.cpio' } }), { cacheDir })).rejects.toThrow(
      `${file}: [profiles.tiny]: kernel ${join(project, 'boot/missing')} does not exist or is not a file`,
    );
    await expect(resolveProfile('tiny', config({ tiny: { kernel: 'boot/bzImage', initrd: 'boot', memory: 5 } }), { cacheDir })).rejects.toThrow(/memory must be a size of at least 16M/);
  });

  it('runs the build command once, with {out}, and finds its outputs there', async () => {
    const counter = join(project, 'build-runs');
    const build = `echo run >> '${counter}' && cp boot/bzImage {out}/kernel && cp boot/initrd.cpio {out}/initrd && echo 'console=ttyS0 quiet' > {out}/cmdline`;
    const cfg = config({ built: { build, kernel: 'kernel', initrd: 'initrd', cmdline_file: 'cmdline' } });
    const progress: string[] = [];
    const [a, b] = await Promise.all([resolveProfile('built', cfg, { cacheDir, onProgress: (m) => progress.push(m) }), resolveProfile('built', cfg, { cacheDir })]);
    const out = join(project, '.provium', 'build', 'built');
    expect(a).toMatchObject({ kernel: join(out, 'kernel'), initrd: join(out, 'initrd'), cmdline: 'console=ttyS0 quiet' });
    expect(b.identity).toBe(a.identity);
    expect(readFileSync(counter, 'utf8')).toBe('run\n');
    expect(progress).toEqual(['profile built: running build command']);
  });

  it('reports a failing build with its exit status and output', async () => {
    const cfg = config({ broken: { build: 'cd {out}; echo compiling; echo "cc: error: no such file" >&2; exit 3', kernel: 'k', initrd: 'i' } });
    const out = join(project, '.provium', 'build', 'broken');
    await expect(resolveProfile('broken', cfg, { cacheDir })).rejects.toThrow(
      `${file}: [profiles.broken]: build command failed (exit status 3): cd '${out}'; echo compiling; echo "cc: error: no such file" >&2; exit 3\ncompiling\ncc: error: no such file`,
    );
    const missing = config({ empty: { build: 'true {out}', kernel: 'bzImage', initrd: 'initrd' } });
    await expect(resolveProfile('empty', missing, { cacheDir })).rejects.toThrow(/\[profiles.empty\]: kernel .*\.provium\/build\/empty\/bzImage does not exist or is not a file \(after running the build command\)/);
  });

  it('inject_agent appends busybox, the agent and an init wrapper as a second cpio segment', async () => {
    const cfg = config({ injected: { kernel: 'boot/bzImage', initrd: 'boot/initrd.cpio', cmdline: 'console=ttyS0 rdinit=/sbin/myinit quiet', inject_agent: true } });
    const [profile, racer] = await Promise.all([resolveProfile('injected', cfg, { cacheDir }), resolveProfile('injected', cfg, { cacheDir })]);
    expect(racer.initrd).toBe(profile.initrd);
    expect(profile.cmdline).toBe('console=ttyS0 quiet rdinit=/provium/init');
    expect(profile.manifest).toMatchObject({ kind: 'inject_agent', targetInit: '/sbin/myinit' });

    const base = readFileSync(join(project, 'boot/initrd.cpio'));
    const output = readFileSync(profile.initrd);
    expect(output.subarray(0, base.length).equals(base)).toBe(true);
    const segmentStart = Math.ceil(base.length / 4) * 4;
    expect(output.subarray(base.length, segmentStart).every((byte) => byte === 0)).toBe(true);
    const segment = gunzipSync(output.subarray(segmentStart));
    const listing = execFileSync('cpio', ['-it', '--quiet'], { input: segment }).toString().split('\n');
    expect(listing).toEqual(expect.arrayContaining(['provium/init', 'provium/agent-run', 'provium/provium-agent', 'provium/busybox', 'provium/bin/sh', 'provium/target-init', 'dev/null']));

    const extracted = join(project, 'extracted');
    mkdirSync(extracted);
    execFileSync('cpio', ['-id', '--quiet', 'provium/*'], { cwd: extracted, input: segment });
    expect(readFileSync(join(extracted, 'provium/target-init'), 'utf8')).toBe('/sbin/myinit\n');
    expect(sha256(readFileSync(join(extracted, 'provium/provium-agent')))).toBe(sha256(readFileSync(await ensureAgentBuilt())));
    expect(readFileSync(join(extracted, 'provium/init'), 'utf8')).toContain('exec "$target" "$@"');

    // Same inputs: cache hit. Another base initrd: another entry.
    const again = await resolveProfile('injected', cfg, { cacheDir });
    expect(again.manifest?.builtAt).toBe(profile.manifest?.builtAt);
    writeFileSync(join(project, 'boot/initrd2.cpio'), Buffer.concat([base, Buffer.from('extra')]));
    const changed = await resolveProfile('injected', config({ injected: { kernel: 'boot/bzImage', initrd: 'boot/initrd2.cpio', inject_agent: true } }), { cacheDir });
    expect(changed.initrd).not.toBe(profile.initrd);
    expect(changed.cmdline).toBe('console=ttyS0 panic=-1 no_timer_check rdinit=/provium/init');
  });
});
