/**
 * The real default image: built from Debian's kernel package, busybox and the
 * real agent into a fresh cache, then booted once under QEMU.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { AgentClient, ensureAgentBuilt } from '@provium/agent';
import { type DefaultImage, bootCmdline, collectDefaultImageInputs, defaultImageKey, doctor, prepareDefaultImage, resolveProfile } from '@provium/image';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Qmp, waitFor } from './helpers.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('default image', () => {
  let cacheDir: string;
  let image: DefaultImage;
  const progress: string[] = [];

  beforeAll(() => {
    cacheDir = mkdtempSync(join(tmpdir(), 'provium-image-test-'));
  });
  afterAll(() => {
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('is built into the cache, leaving no temp dirs behind', async () => {
    image = await prepareDefaultImage({ cacheDir, onProgress: (m: string) => progress.push(m) });
    expect(image.built).toBe(true);
    expect(progress.some((m) => m.startsWith('building the default guest image'))).toBe(true);
    expect(progress.some((m) => m.startsWith('downloading linux-image-'))).toBe(true);
    const entries = readdirSync(join(cacheDir, 'images')).sort();
    expect(entries).toEqual([image.dir.slice(image.dir.lastIndexOf('/') + 1), 'downloads']);
    expect(entries[0]).toMatch(/^default-[0-9a-f]{32}$/);
    expect(readdirSync(image.dir).sort()).toEqual(['initrd.img', 'manifest.json', 'vmlinux', 'vmlinuz']);
  });

  it('records versions and content hashes of every input in the manifest', async () => {
    const m = image.manifest;
    expect(m.kernel.package).toMatch(/^linux-image-6\.1\.0-\d+-amd64$/);
    expect(m.kernel.release).toBe(m.kernel.package.slice('linux-image-'.length));
    expect(m.kernel.version).toMatch(/^6\.1\.\d+-\d+/);
    expect(m.kernel.bootFormat).toBe('pvh-elf');
    const deb = readFileSync(join(cacheDir, 'images', 'downloads', m.kernel.deb));
    expect(sha256(deb)).toBe(m.kernel.debSha256);

    expect(m.busybox.sha256).toBe(sha256(readFileSync('/bin/busybox')));
    expect(m.agent.sha256).toBe(sha256(readFileSync(await ensureAgentBuilt())));
    const init = m.guestFiles.find((f) => f.path === 'init');
    expect(init?.sha256).toBe(sha256(readFileSync(new URL('../../packages/image/guest/rootfs/init', import.meta.url))));

    // Modules come in dependency order and include the virtio transport and console.
    const names = m.modules.map((mod) => mod.name);
    expect(names).toEqual(expect.arrayContaining(['virtio_ring', 'virtio', 'virtio_pci', 'virtio_console', 'virtio_net', 'net_failover', 'failover']));
    m.modules.forEach((mod, i) => {
      for (const dep of mod.depends) expect(names.slice(0, i), `${dep} (needed by ${mod.name}) listed before it`).toContain(dep);
      expect(mod.sha256).toMatch(/^[0-9a-f]{64}$/);
    });

    expect(sha256(readFileSync(image.kernel))).toBe(m.outputs.kernel.sha256);
    // The bzImage for kernel_format = "bzimage" is the package's vmlinuz itself.
    expect(m.outputs.bzImage).toMatchObject({ file: 'vmlinuz', sha256: m.kernel.vmlinuzSha256 });
    expect(sha256(readFileSync(join(image.dir, 'vmlinuz')))).toBe(m.kernel.vmlinuzSha256);
    expect(sha256(readFileSync(image.initrd))).toBe(m.outputs.initrd.sha256);
    // The initramfs holds what the manifest lists.
    const listing = execFileSync('sh', ['-c', `zcat '${image.initrd}' | cpio -it --quiet`]).toString().split('\n');
    expect(listing).toEqual(expect.arrayContaining(['init', 'bin/busybox', 'bin/sh', 'sbin/provium-agent', 'sbin/provium-agent-run', 'etc/inittab']));
    for (const mod of m.modules) expect(listing).toContain(`lib/modules/${m.kernel.release}/${mod.file}`);
  });

  it('is a cache hit on the next call, and its key follows its inputs', async () => {
    const again = await prepareDefaultImage({ cacheDir });
    expect(again.built).toBe(false);
    expect(again.dir).toBe(image.dir);
    expect(again.manifest.builtAt).toBe(image.manifest.builtAt);
    const check = (await doctor({ cacheDir })).find((c) => c.name === 'default image');
    expect(check).toMatchObject({ ok: true, detail: expect.stringContaining(`built: ${image.dir}`) });

    const inputs = await collectDefaultImageInputs({ cacheDir });
    expect(defaultImageKey(inputs)).toBe(image.manifest.key);
    const editedInit = inputs.guestFiles.map((f) => (f.path === 'init' ? { ...f, data: Buffer.concat([f.data, Buffer.from('\n')]), sha256: sha256(Buffer.concat([f.data, Buffer.from('\n')])) } : f));
    expect(defaultImageKey({ ...inputs, guestFiles: editedInit })).not.toBe(image.manifest.key);
    expect(defaultImageKey({ ...inputs, agent: { ...inputs.agent, sha256: sha256(Buffer.from('another agent')) } })).not.toBe(image.manifest.key);
    expect(defaultImageKey({ ...inputs, kernel: { ...inputs.kernel, version: `${inputs.kernel.version}+1` } })).not.toBe(image.manifest.key);
  });

  it('resolves as the "default" profile', async () => {
    const profile = await resolveProfile('default', undefined, { cacheDir });
    expect(profile).toMatchObject({ name: 'default', kernel: image.kernel, initrd: image.initrd, memory: 256 * 1024 * 1024, cpus: 1, source: 'built-in' });
    expect(profile.cmdline).toBe('console=ttyS0 panic=-1 no_timer_check quiet');
    expect(profile.identity).toMatch(/^[0-9a-f]{64}$/);
  });

  it('boots under QEMU: modules, hostname, boot files, agent, zombie reaping, power button', async () => {
    const run = mkdtempSync(join(tmpdir(), 'provium-boot-'));
    const consoleLog = join(run, 'console.log');
    const cmdline = bootCmdline(image.cmdline, { hostname: 'imgtest', files: [{ path: '/etc/provium/greeting', content: 'hello from the host\n', mode: 0o600 }] });
    const started = Date.now();
    const qemu = execa('qemu-system-x86_64', [
      '-accel', 'tcg', '-nodefaults', '-no-user-config', '-display', 'none', '-machine', 'pc-i440fx-7.2', '-m', '256M',
      '-kernel', image.kernel, '-initrd', image.initrd, '-append', cmdline,
      '-serial', `file:${consoleLog}`,
      '-device', 'virtio-serial-pci',
      '-chardev', `socket,id=ag,path=${join(run, 'agent.sock')},server=on,wait=off`,
      '-device', 'virtserialport,chardev=ag,name=org.provium.agent',
      '-qmp', `unix:${join(run, 'qmp.sock')},server=on,wait=off`,
      '-no-reboot',
    ], { reject: false });
    let agent: AgentClient | undefined;
    try {
      const consoleText = () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '');
      await waitFor(() => consoleText().includes('provium-agent: ready') || qemu.exitCode !== null, 120_000, 'the agent-ready marker');
      console.log(`default image: agent-ready marker ${Date.now() - started} ms after starting QEMU`);
      const text = consoleText();
      expect(text).toContain('provium-init: modules loaded: virtio_ring');
      expect(text).toMatch(/modules loaded:.* virtio_console .*virtio_net/);
      expect(text).not.toContain('failed');
      expect(text).toContain('built-in shell (ash)'); // the serial console shell

      const socket = connect(join(run, 'agent.sock'));
      agent = await AgentClient.connect(socket, { handshakeTimeoutMs: 60_000 });
      const sh = async (command: string): Promise<string> => {
        const result = await agent!.exec(command);
        expect(result.stderr.toString(), command).toBe('');
        return result.stdout.toString();
      };
      expect(await sh('hostname')).toBe('imgtest\n');
      expect(await sh('cat /etc/provium/greeting; stat -c %a /etc/provium/greeting')).toBe('hello from the host\n600\n');
      expect(await sh('ls /dev/vport*')).toMatch(/^\/dev\/vport\dp\d/);
      expect(await sh('cat /sys/class/virtio-ports/*/name')).toContain('org.provium.agent');
      expect(await sh('ip -o link show lo')).toContain('UP');
      expect((await sh('cut -d" " -f1 /proc/modules')).split('\n')).toEqual(expect.arrayContaining(['virtio_console', 'virtio_pci', 'button']));
      // An orphan (its parent shell exits at once) is reaped: /proc/PID goes away,
      // which it would not while a zombie.
      const orphan = (await sh('sh -c "sleep 0.2 & echo \\$!"')).trim();
      expect(orphan).toMatch(/^\d+$/);
      await waitFor(async () => (await sh(`[ -e /proc/${orphan} ] || echo reaped`)) === 'reaped\n', 30_000, `orphan ${orphan} to be reaped`);

      // The ACPI power button powers the guest off; QEMU then exits by itself.
      const qmp = await Qmp.connect(join(run, 'qmp.sock'));
      await qmp.command('system_powerdown');
      const exit = await qemu;
      expect(exit.exitCode).toBe(0);
      expect(consoleText()).toContain('reboot: Power down');
    } finally {
      await agent?.close().catch(() => {});
      qemu.kill('SIGKILL');
      await qemu;
      rmSync(run, { recursive: true, force: true });
    }
  }, 240_000);
});
