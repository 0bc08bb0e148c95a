/**
 * The built-in `default` guest image: Debian's kernel, an initramfs with
 * busybox, the virtio modules, the Provium agent and the init scripts of
 * packages/image/guest/rootfs. Built once per set of inputs into
 * `<cache>/images/default-<key>/` (vmlinux, vmlinuz, initrd.img, manifest.json).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { installDirOnce } from './atomic-install.js';
import { settleImageEntry } from './prune-images.js';
import { builderFingerprint } from './builder-fingerprint.js';
import { imageCacheDir } from './cache-dir.js';
import { type CpioEntry, cpioNewc } from './cpio.js';
import { GUEST_DIR, type GuestFile, type HostBinary, debianPackageVersion, readAgent, readBusybox, readGuestTree } from './guest-inputs.js';
import { sha256 } from './hash.js';
import { writeBootKernels } from './kernel-image.js';
import { busyboxEntries, moduleEntries, readModules } from './initramfs-parts.js';
import { GUEST_MODULES } from './kernel-modules.js';
import { KERNEL_META_PACKAGE, type KernelPackage, fetchKernelPackage, kernelRelease, resolveKernelPackageCached } from './kernel-package.js';
import { type DefaultImageManifest, octal, readManifest, writeManifest } from './manifest.js';
import { loadExeca } from './load-execa.js';

/**
 * `panic=-1` + QEMU's `-no-reboot` turn a guest panic into a QEMU exit.
 * `no_timer_check`: the kernel skips its boot-time check that the timer
 * interrupt arrives through the IO-APIC within a few ticks, which under TCG on
 * a loaded host can miss them and panic ("IO-APIC + timer doesn't work!"),
 * failing a boot for the host's load, not the guest's (seen at a fixture build
 * under a full `npm test`). No
 * `init_on_free=1`: it zeroes all guest RAM at boot, which on the shared RAM
 * file costs a page fault per 4 KiB page (~0.8 s of a 256 MB boot under TCG)
 * and makes the whole file resident, for no smaller snapshot (docs/snapshots.md).
 */
export const DEFAULT_CMDLINE = 'console=ttyS0 panic=-1 no_timer_check quiet';
export const DEFAULT_MEMORY = 256 * 1024 * 1024;
export const DEFAULT_CPUS = 1;

export interface ImageOptions {
  /** Provium cache root (images go to `<cacheDir>/images`); default $PROVIUM_CACHE_DIR, else ~/.cache/provium. */
  cacheDir?: string;
  /** Called with a short line for each slow step (download, build). */
  onProgress?: (message: string) => void;
  /** Agent binary to put in the image instead of the one packages/agent builds. */
  agentBinary?: string;
  /** Build a built-in image again even when the cache has it, replacing it (`provium prepare --rebuild`). */
  rebuild?: boolean;
}

export interface DefaultImageInputs {
  /** builderFingerprint(): the image builder's own code. */
  builder: string;
  kernel: KernelPackage;
  busybox: HostBinary;
  agent: HostBinary;
  guestFiles: GuestFile[];
  modules: readonly string[];
  cmdline: string;
}

export interface DefaultImage {
  dir: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  manifest: DefaultImageManifest;
  /** True when this call built the image, false on a cache hit. */
  built: boolean;
}

/** Resolves and reads every input of the default image (no building, no download). */
export async function collectDefaultImageInputs(options: Pick<ImageOptions, 'cacheDir' | 'agentBinary'> = {}): Promise<DefaultImageInputs> {
  const [builder, kernel, busybox, agent, guestFiles] = await Promise.all([
    builderFingerprint(),
    resolveKernelPackageCached(join(imageCacheDir(options.cacheDir), 'downloads')),
    readBusybox(),
    readAgent(options.agentBinary),
    readGuestTree(join(GUEST_DIR, 'rootfs')),
  ]);
  return { builder, kernel, busybox, agent, guestFiles, modules: GUEST_MODULES, cmdline: DEFAULT_CMDLINE };
}

/** The content key of an image built from `inputs`. */
export function defaultImageKey(inputs: DefaultImageInputs): string {
  return sha256(
    JSON.stringify({
      builder: inputs.builder,
      kernel: [inputs.kernel.name, inputs.kernel.version, inputs.kernel.sha256],
      busybox: inputs.busybox.sha256,
      agent: inputs.agent.sha256,
      guestFiles: inputs.guestFiles.map((f) => [f.path, f.mode, f.sha256]),
      modules: inputs.modules,
      cmdline: inputs.cmdline,
    }),
  );
}

/** Directory name of the image built from inputs with this key. */
export function defaultImageDirName(key: string): string {
  return `default-${key.slice(0, 32)}`;
}

/**
 * The default image for the current inputs, built first when the cache does
 * not hold it yet. Safe against crashes and concurrent builders.
 */
export async function prepareDefaultImage(options: ImageOptions = {}): Promise<DefaultImage> {
  const onProgress = options.onProgress ?? (() => {});
  const imagesDir = imageCacheDir(options.cacheDir);
  const inputs = await collectDefaultImageInputs(options);
  const key = defaultImageKey(inputs);
  const { dir, built } = await installDirOnce(imagesDir, defaultImageDirName(key), async (temp) => {
    onProgress(`building the default guest image (kernel ${inputs.kernel.name} ${inputs.kernel.version})`);
    const deb = await fetchKernelPackage(inputs.kernel, join(imagesDir, 'downloads'), onProgress);
    await buildDefaultImage(inputs, key, deb, temp);
  }, { replace: options.rebuild });
  await settleImageEntry(imagesDir, dir, built);
  const manifest = await readManifest<DefaultImageManifest>(dir, 'default');
  return { dir, kernel: join(dir, manifest.outputs.kernel.file), initrd: join(dir, manifest.outputs.initrd.file), cmdline: manifest.cmdline, manifest, built };
}

async function buildDefaultImage(inputs: DefaultImageInputs, key: string, deb: string, out: string): Promise<void> {
  const release = kernelRelease(inputs.kernel);
  const unpacked = join(out, 'unpacked');
  await mkdir(unpacked);
  const execa = await loadExeca();
  await execa('dpkg-deb', ['-x', deb, unpacked]);
  try {
    const moduleFiles = await readModules(join(unpacked, 'lib/modules', release), release, inputs.modules);
    const entries: CpioEntry[] = [
      ...['dev', 'proc', 'sys', 'run', 'mnt', 'var/log'].map((path): CpioEntry => ({ type: 'dir', path })),
      { type: 'dir', path: 'tmp', mode: 0o1777 },
      { type: 'dir', path: 'root', mode: 0o700 },
      // /init writes to the console before devtmpfs is mounted.
      { type: 'chardev', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
      ...(await busyboxEntries(inputs.busybox, new Set(inputs.guestFiles.map((f) => f.path)))),
      ...inputs.guestFiles.map((file): CpioEntry => ({ type: 'file', path: file.path, mode: file.mode, data: file.data })),
      ...moduleEntries(release, moduleFiles),
      { type: 'file', path: 'sbin/provium-agent', mode: 0o755, data: inputs.agent.data },
    ];

    const initrd = await promisify(gzip)(cpioNewc(entries), { level: 9 });
    await writeFile(join(out, 'initrd.img'), initrd);
    const vmlinuz = await readFile(join(unpacked, 'boot', `vmlinuz-${release}`));
    const kernel = await writeBootKernels(out, vmlinuz);

    const manifest: DefaultImageManifest = {
      kind: 'default',
      key,
      builder: inputs.builder,
      builtAt: new Date().toISOString(),
      cmdline: inputs.cmdline,
      kernel: {
        metaPackage: KERNEL_META_PACKAGE,
        package: inputs.kernel.name,
        version: inputs.kernel.version,
        release,
        deb: inputs.kernel.debFile,
        debSha256: inputs.kernel.sha256,
        vmlinuzSha256: sha256(vmlinuz),
        bootFormat: kernel.format,
        ...(kernel.reason ? { bootFormatReason: kernel.reason } : {}),
      },
      busybox: { path: inputs.busybox.path, sha256: inputs.busybox.sha256, package: 'busybox-static', version: await debianPackageVersion('busybox-static') },
      agent: { path: inputs.agent.path, sha256: inputs.agent.sha256 },
      guestFiles: inputs.guestFiles.map((f) => ({ path: f.path, mode: octal(f.mode), sha256: f.sha256 })),
      modules: moduleFiles.map((m) => ({ name: m.name, file: m.file, depends: m.depends, sha256: sha256(m.data) })),
      initrdCompression: 'gzip',
      outputs: {
        kernel: kernel.kernel,
        bzImage: kernel.bzImage,
        initrd: { file: 'initrd.img', sha256: sha256(initrd), size: initrd.length },
      },
    };
    await writeManifest(out, manifest);
  } finally {
    await rm(unpacked, { recursive: true, force: true });
  }
}
