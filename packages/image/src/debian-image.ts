/**
 * The built-in `debian` guest image: Debian 12 with systemd as PID 1 on an
 * ext4 root file system in a qcow2 disk, booted by the default guest's kernel
 * through a small busybox initramfs; the Provium agent runs as an early
 * systemd service. Built with mmdebstrap into `<cache>/images/debian-<key>/`
 * (vmlinux, initrd.img, disk.qcow2, manifest.json).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { installDirOnce } from './atomic-install.js';
import { settleImageEntry } from './prune-images.js';
import { builderFingerprint } from './builder-fingerprint.js';
import { imageCacheDir } from './cache-dir.js';
import { buildDebianImage } from './debian-build.js';
import type { ImageOptions } from './default-image.js';
import { GUEST_DIR, type GuestFile, type HostBinary, readAgent, readBusybox, readGuestTree } from './guest-inputs.js';
import { sha256 } from './hash.js';
import { type KernelPackage, resolveKernelPackageCached } from './kernel-package.js';
import { type DebianImageManifest, readManifest } from './manifest.js';
import { debianBuildSupport } from './mmdebstrap.js';
import { ROOT_FS_BYTES } from './debian-disk.js';
import { abortOnSignals } from './signal-abort.js';

export const DEBIAN_RELEASE = 'bookworm';

/** What mmdebstrap installs besides its apt variant (the Essential packages and apt), and why. Not curl: tests install it. */
export const DEBIAN_PACKAGES: readonly { name: string; why: string }[] = [
  { name: 'systemd-sysv', why: 'systemd as /sbin/init' },
  { name: 'dbus', why: 'systemd-logind needs it: the ACPI power button (QMP system_powerdown) powers the guest off; hostnamectl, loginctl' },
  { name: 'udev', why: 'device units: without it systemd waits 90 s for /dev/ttyS0 and the serial getty fails; loads modules of new devices (virtio_net)' },
  { name: 'kmod', why: 'depmod for the kernel modules put into the tree, modprobe' },
  { name: 'iproute2', why: 'ip: packages/net configures the lab NICs with it' },
  { name: 'net-tools', why: 'arp: packages/net pins the lab neighbours with `arp -s`' },
  { name: 'iputils-ping', why: 'ping, which the network tests use' },
  { name: 'procps', why: 'ps, pgrep, pkill, sysctl for tests that look at processes' },
];

/**
 * `net.ifnames=0`: NICs keep the kernel's names (eth0…). udev would otherwise
 * rename them while packages/net, through the early agent, configures them.
 */
export const DEBIAN_CMDLINE = 'console=ttyS0 panic=-1 no_timer_check quiet net.ifnames=0';
/**
 * Added under TCG only (PreparedProfile.tcgCmdline): no randomized address
 * space layouts. QEMU's TCG finds translated code by its virtual address, so
 * a dynamically linked program whose ld.so, libc and PIE text land at new
 * random addresses in every process is translated afresh at every exec. In
 * this guest (dash, coreutils: all PIE and dynamic) a spawn of
 * `/bin/sh -c true` took 35 ms with the layouts randomized and 5 ms without
 * (docs/disks.md). KVM runs the guest's code natively: there the guest keeps
 * its randomized layouts.
 */
export const DEBIAN_TCG_CMDLINE = 'norandmaps';
export const DEBIAN_MEMORY = 256 * 1024 * 1024;
export const DEBIAN_CPUS = 1;

/** Modules in the initramfs: ext4 on virtio-blk for the root, virtio_console for the agent's port before udev runs. */
export const DEBIAN_INITRAMFS_MODULES: readonly string[] = ['virtio_pci', 'virtio_blk', 'virtio_console', 'crc32c_generic', 'ext4'];

export interface DebianImageInputs {
  builder: string;
  release: string;
  packages: readonly string[];
  kernel: KernelPackage;
  busybox: HostBinary;
  agent: HostBinary;
  /** packages/image/guest/debian, plus the agent supervisor script shared with the default guest. */
  guestFiles: GuestFile[];
  initramfsModules: readonly string[];
  cmdline: string;
  rootFsBytes: number;
}

export interface DebianImage {
  dir: string;
  kernel: string;
  initrd: string;
  /** The qcow2 root disk. Never boot it directly: give each VM a copy-on-write overlay of it. */
  disk: string;
  cmdline: string;
  manifest: DebianImageManifest;
  /** True when this call built the image, false on a cache hit. */
  built: boolean;
}

/** The agent supervisor of the default guest, run by provium-agent.service. */
const AGENT_RUN = { from: 'rootfs/sbin/provium-agent-run', to: 'rootfs/usr/sbin/provium-agent-run' };

/** Resolves and reads every input of the debian image (no building, no download). */
export async function collectDebianImageInputs(options: Pick<ImageOptions, 'cacheDir' | 'agentBinary'> = {}): Promise<DebianImageInputs> {
  const [builder, kernel, busybox, agent, guestFiles, agentRun] = await Promise.all([
    builderFingerprint(),
    resolveKernelPackageCached(join(imageCacheDir(options.cacheDir), 'downloads')),
    readBusybox(),
    readAgent(options.agentBinary),
    readGuestTree(join(GUEST_DIR, 'debian')),
    readFile(join(GUEST_DIR, AGENT_RUN.from)),
  ]);
  guestFiles.push({ path: AGENT_RUN.to, mode: 0o755, data: agentRun, sha256: sha256(agentRun) });
  return {
    builder,
    release: DEBIAN_RELEASE,
    packages: DEBIAN_PACKAGES.map((p) => p.name),
    kernel,
    busybox,
    agent,
    guestFiles,
    initramfsModules: DEBIAN_INITRAMFS_MODULES,
    cmdline: DEBIAN_CMDLINE,
    rootFsBytes: ROOT_FS_BYTES,
  };
}

/** The content key of an image built from `inputs`. The mirror's package versions are not part of it. */
export function debianImageKey(inputs: DebianImageInputs): string {
  return sha256(
    JSON.stringify({
      builder: inputs.builder,
      release: inputs.release,
      packages: inputs.packages,
      kernel: [inputs.kernel.name, inputs.kernel.version, inputs.kernel.sha256],
      busybox: inputs.busybox.sha256,
      agent: inputs.agent.sha256,
      guestFiles: inputs.guestFiles.map((f) => [f.path, f.mode, f.sha256]),
      initramfsModules: inputs.initramfsModules,
      cmdline: inputs.cmdline,
      rootFsBytes: inputs.rootFsBytes,
    }),
  );
}

export function debianImageDirName(key: string): string {
  return `debian-${key.slice(0, 32)}`;
}

/**
 * The debian image for the current inputs, built first when the cache does
 * not hold it yet (or `rebuild`). A failed or interrupted build (Ctrl-C)
 * leaves nothing in the cache. Throws, naming what to install, where
 * mmdebstrap cannot run.
 */
export async function prepareDebianImage(options: ImageOptions = {}): Promise<DebianImage> {
  const onProgress = options.onProgress ?? (() => {});
  const imagesDir = imageCacheDir(options.cacheDir);
  const inputs = await collectDebianImageInputs(options);
  const key = debianImageKey(inputs);
  // The signal guard spans the install: its temp directory is removed before an interrupt ends the process.
  const { dir, built } = await abortOnSignals((signal) =>
    installDirOnce(
      imagesDir,
      debianImageDirName(key),
      async (temp) => {
        const support = await debianBuildSupport();
        if (!support.ok) throw new Error(`cannot build the debian guest image: ${support.reason}`);
        await buildDebianImage({ inputs, key, out: temp, imagesDir, support, onProgress, signal });
      },
      { replace: options.rebuild },
    ),
  );
  await settleImageEntry(imagesDir, dir, built);
  const manifest = await readManifest<DebianImageManifest>(dir, 'debian');
  const { outputs } = manifest;
  return { dir, kernel: join(dir, outputs.kernel.file), initrd: join(dir, outputs.initrd.file), disk: join(dir, outputs.disk.file), cmdline: manifest.cmdline, manifest, built };
}
