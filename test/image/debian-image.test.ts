/**
 * The built-in debian image: built with mmdebstrap into the Provium cache
 * (reused while its inputs are unchanged), then booted under QEMU on a
 * copy-on-write overlay of its disk. The cached disk must come out unchanged.
 * Skipped, with the reason in the suite's name, only where mmdebstrap cannot run.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { AgentClient } from '@provium/agent';
import {
  DEBIAN_PACKAGES, type DebianImage, bootCmdline, collectDebianImageInputs, debianBuildSupport, debianImageKey, prepareDebianImage, resolveProfile,
} from '@provium/image';
import { launchQemu } from '@provium/qemu';
import { describe, expect, it } from 'vitest';

const support = await debianBuildSupport();

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe.skipIf(!support.ok)(`debian image${support.ok ? '' : ` (skipped: ${support.reason})`}`, () => {
  let image: DebianImage;
  const progress: string[] = [];

  it('is built into the cache (or found there) with kernel, initrd, qcow2 disk and a debian manifest', async () => {
    const started = Date.now();
    image = await prepareDebianImage({ onProgress: (m) => progress.push(m) });
    console.log(`debian image: ${image.built ? 'built' : 'found'} in ${((Date.now() - started) / 1000).toFixed(1)} s at ${image.dir}`);
    if (image.built) {
      expect(progress.filter((m) => /^debian image: step \d\/6 \(/.test(m)).length).toBe(6);
      expect(progress).toContainEqual(expect.stringMatching(/^debian image: mmdebstrap: .* \[\d+\.\d s\]$/));
    }
    expect(basename(image.dir)).toMatch(/^debian-[0-9a-f]{32}$/);
    expect(readdirSync(image.dir).sort()).toEqual(['disk.qcow2', 'initrd.img', 'manifest.json', 'vmlinux', 'vmlinuz']);
    // No temp directory of this process is left beside it.
    expect(readdirSync(dirname(image.dir)).filter((n) => n.startsWith(`.tmp-${process.pid}-`))).toEqual([]);

    const m = image.manifest;
    expect(m).toMatchObject({ kind: 'debian', cmdline: 'console=ttyS0 panic=-1 no_timer_check quiet net.ifnames=0', debian: { release: 'bookworm', variant: 'apt' } });
    expect(m.debian.include).toEqual(DEBIAN_PACKAGES.map((p) => p.name));
    expect(m.kernel.package).toMatch(/^linux-image-6\.1\.0-\d+-amd64$/);
    const installed = new Map(m.packages.map((p) => [p.name, p.version]));
    for (const name of ['systemd', 'systemd-sysv', 'apt', 'udev', 'dbus', 'iproute2', 'net-tools', 'kmod']) expect(installed.get(name), name).toMatch(/^\d/);
    expect(installed.has('curl')).toBe(false);
    const modules = m.modules.map((mod) => mod.name);
    expect(modules).toEqual(expect.arrayContaining(['virtio_pci', 'virtio_blk', 'virtio_console', 'crc16', 'crc32c_generic', 'mbcache', 'jbd2', 'ext4']));
    m.modules.forEach((mod, i) => mod.depends.forEach((dep) => expect(modules.indexOf(dep), `${dep} before ${mod.name}`).toBeLessThan(i)));

    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', image.disk]).toString()) as Record<string, unknown>;
    expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': m.rootFs.bytes });
    expect(info['backing-filename']).toBeUndefined();
    expect(m.outputs.disk.size).toBeLessThan(m.rootFs.bytes / 4); // zero clusters are left out
  }, 1_200_000);

  it('has a key that follows its inputs', async () => {
    const inputs = await collectDebianImageInputs();
    expect(debianImageKey(inputs)).toBe(image.manifest.key);
    expect(debianImageKey({ ...inputs, packages: [...inputs.packages, 'curl'] })).not.toBe(image.manifest.key);
    expect(debianImageKey({ ...inputs, release: 'trixie' })).not.toBe(image.manifest.key);
    expect(debianImageKey({ ...inputs, agent: { ...inputs.agent, sha256: '0'.repeat(64) } })).not.toBe(image.manifest.key);
    const unit = inputs.guestFiles.map((f) => (f.path.endsWith('provium-agent.service') ? { ...f, sha256: '1'.repeat(64) } : f));
    expect(debianImageKey({ ...inputs, guestFiles: unit })).not.toBe(image.manifest.key);
  });

  it('resolves as the built-in "debian" profile, with its disk', async () => {
    const profile = await resolveProfile('debian');
    expect(profile).toMatchObject({ name: 'debian', kernel: image.kernel, initrd: image.initrd, disk: { path: image.disk, format: 'qcow2', sha256: image.manifest.outputs.disk.sha256 }, cmdline: image.cmdline, tcgCmdline: 'norandmaps', memory: 256 * 1024 * 1024, cpus: 1, source: 'built-in' });
    expect(profile.identity).toMatch(/^[0-9a-f]{64}$/);
  });

  it('provium prepare debian prints it, with the words added under TCG', () => {
    const out = execFileSync('node', [join(__dirname, '../../runner/bin/provium.js'), 'prepare', 'debian'], { encoding: 'utf8', cwd: tmpdir() });
    expect(out).toContain(`  disk ${image.disk} (qcow2)\n  cmdline ${image.cmdline}\n  and under TCG: norandmaps\n  identity `);
  });

  it('boots on an overlay: systemd is PID 1 and running, apt works, no curl, ext4 root on /dev/vda is writable; the cached disk is unchanged', async () => {
    const diskSha = await sha256File(image.disk);
    expect(diskSha).toBe(image.manifest.outputs.disk.sha256);
    const run = mkdtempSync(join(tmpdir(), 'provium-debian-'));
    const overlay = join(run, 'overlay.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', image.disk, overlay]);
    const append = bootCmdline(image.cmdline, { hostname: 'deb-test', files: [{ path: '/etc/provium/greeting', content: 'hello from the host\n', mode: 0o600 }] });
    const started = Date.now();
    const vm = await launchQemu({
      name: 'debian', memoryMiB: 256, runtimeRoot: run, kernel: image.kernel, initrd: image.initrd, append,
      extraArgs: ['-drive', `file=${overlay.replaceAll(',', ',,')},format=qcow2,if=virtio`],
    });
    let agent: AgentClient | undefined;
    try {
      agent = await AgentClient.connect(connect(vm.agentSocketPath), { handshakeTimeoutMs: 300_000 });
      console.log(`debian image: agent answered ${Date.now() - started} ms after launching QEMU`);
      const sh = async (command: string) => {
        const r = await agent!.exec(command, { timeoutMs: 300_000 });
        return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
      };
      expect(await sh('readlink /proc/1/exe; cat /proc/1/comm')).toEqual({ code: 0, out: '/usr/lib/systemd/systemd\nsystemd\n', err: '' });
      const state = await sh('systemctl is-system-running --wait');
      console.log(`debian image: ${state.out.trim()} at guest uptime ${(await sh('cut -d" " -f1 /proc/uptime')).out.trim()} s`);
      expect(state.out, (await sh('systemctl --failed --no-pager')).out).toBe('running\n');
      expect(await sh('systemctl is-active provium-agent.service')).toMatchObject({ code: 0, out: 'active\n' });

      const apt = await sh('apt-get --version');
      expect(apt.code).toBe(0);
      expect(apt.out).toMatch(/^apt 2\.\d+/);
      expect(await sh('which curl')).toMatchObject({ code: 1, out: '' });
      // What packages/net runs in the guest, and the tests' ping.
      expect(await sh('for c in ip arp ping sed grep cat sleep mv printf; do command -v $c >/dev/null || echo missing $c; done')).toEqual({ code: 0, out: '', err: '' });

      expect((await sh('findmnt -n -o SOURCE,FSTYPE /')).out.split(/\s+/).filter(Boolean)).toEqual(['/dev/vda', 'ext4']);
      expect((await sh('findmnt -n -o OPTIONS /')).out).toMatch(/^rw,/);
      expect(await sh('echo written > /root/provium-test && cat /root/provium-test && sync')).toMatchObject({ code: 0, out: 'written\n' });
      // The per-boot command-line words of bootCmdline.
      expect((await sh('hostname; cat /etc/provium/greeting; stat -c %a /etc/provium/greeting')).out).toBe('deb-test\nhello from the host\n600\n');
      expect(readFileSync(vm.consoleLogPath, 'utf8')).toContain('provium-agent: ready');

      // The power button: systemd-logind powers off, QEMU exits by itself.
      const exit = await vm.shutdown({ timeoutMs: 120_000 });
      expect(exit).toMatchObject({ code: 0, shutdownReason: 'guest-shutdown' });
    } finally {
      await agent?.close().catch(() => {});
      await vm.kill();
      rmSync(run, { recursive: true, force: true });
    }
    expect(existsSync(run)).toBe(false);
    expect(await sha256File(image.disk)).toBe(diskSha);
  }, 900_000);
});
