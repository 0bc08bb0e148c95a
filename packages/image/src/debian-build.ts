/**
 * The steps that build the debian image into a temp directory `out` (renamed
 * into the cache by the caller once complete). Each step reports its start
 * with the time elapsed; a failure names the step.
 */
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { type CpioEntry, cpioNewc } from './cpio.js';
import type { DebianImageInputs } from './debian-image.js';
import { debianPackageVersion } from './guest-inputs.js';
import { sha256, sha256File } from './hash.js';
import { busyboxEntries, moduleEntries, readModules } from './initramfs-parts.js';
import { writeBootKernels } from './kernel-image.js';
import { KERNEL_META_PACKAGE, fetchKernelPackage, kernelRelease } from './kernel-package.js';
import { loadExeca } from './load-execa.js';
import { type DebianImageManifest, type ModuleRecord, octal, writeManifest } from './manifest.js';
import { type DebianBuildSupport, runMmdebstrap } from './mmdebstrap.js';
import { ROOT_FS_LABEL, convertToQcow2, installedPackages, makeExt4, treeBytes } from './debian-disk.js';

export interface DebianBuild {
  inputs: DebianImageInputs;
  key: string;
  out: string;
  imagesDir: string;
  support: DebianBuildSupport & { ok: true };
  onProgress: (message: string) => void;
  signal: AbortSignal;
}

const STEPS = ['kernel package', 'initramfs', 'guest files', 'mmdebstrap', 'ext4', 'qcow2'] as const;
type Step = (typeof STEPS)[number];

/** Unpacked into the tree by mmdebstrap's tar-in hook, then run there by a chroot hook. */
const CUSTOMIZE = 'provium-customize';

export async function buildDebianImage(build: DebianBuild): Promise<void> {
  const { inputs, out, signal } = build;
  const started = Date.now();
  const seconds: Record<string, number> = {};
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const step = async <T>(name: Step, what: string, work: () => Promise<T>): Promise<T> => {
    const at = `step ${STEPS.indexOf(name) + 1}/${STEPS.length} (${name})`;
    build.onProgress(`debian image: ${at}: ${what} [${elapsed()}]`);
    const t0 = Date.now();
    try {
      signal.throwIfAborted();
      return await work();
    } catch (error) {
      throw new Error(`building the debian guest image, ${at}: ${(error as Error).message}`, { cause: error });
    } finally {
      seconds[name] = (Date.now() - t0) / 1000;
    }
  };
  const release = kernelRelease(inputs.kernel);
  if (!/^[0-9A-Za-z._+-]+$/.test(release)) throw new Error(`building the debian guest image: unexpected kernel release "${release}" (from package ${inputs.kernel.name})`);
  const kernelTree = join(out, 'kernel');
  const modulesDir = join(kernelTree, 'lib/modules', release);

  const vmlinuz = await step('kernel package', `${inputs.kernel.name} ${inputs.kernel.version}`, async () => {
    const deb = await fetchKernelPackage(inputs.kernel, join(build.imagesDir, 'downloads'), build.onProgress);
    const execa = await loadExeca();
    await execa('dpkg-deb', ['-x', deb, kernelTree], { cancelSignal: signal });
    return readFile(join(kernelTree, 'boot', `vmlinuz-${release}`));
  });

  const { kernel, initrd, modules } = await step('initramfs', `busybox, ${inputs.initramfsModules.join(', ')}`, async () => {
    const moduleFiles = await readModules(modulesDir, release, inputs.initramfsModules);
    const init = inputs.guestFiles.find((f) => f.path === 'initramfs/init')!;
    const entries: CpioEntry[] = [
      ...['dev', 'proc', 'sys', 'newroot'].map((path): CpioEntry => ({ type: 'dir', path })),
      // /init writes to the console before devtmpfs is mounted.
      { type: 'chardev', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
      ...(await busyboxEntries(inputs.busybox, new Set())),
      { type: 'file', path: 'init', mode: init.mode, data: init.data },
      ...moduleEntries(release, moduleFiles),
    ];
    const initrdData = await promisify(gzip)(cpioNewc(entries), { level: 9 });
    await writeFile(join(out, 'initrd.img'), initrdData);
    const kernel = await writeBootKernels(out, vmlinuz);
    const records: ModuleRecord[] = moduleFiles.map((m) => ({ name: m.name, file: m.file, depends: m.depends, sha256: sha256(m.data) }));
    return { kernel, initrd: initrdData, modules: records };
  });

  await step('guest files', 'agent, systemd units, kernel modules → stage.tar', async () => {
    const stage = join(out, 'stage');
    for (const file of inputs.guestFiles) {
      const target = file.path.startsWith('rootfs/') ? file.path.slice('rootfs/'.length) : file.path === 'customize' ? CUSTOMIZE : undefined;
      if (target) await writeStaged(join(stage, target), file.data, file.mode);
    }
    await writeStaged(join(stage, 'usr/sbin/provium-agent'), inputs.agent.data, 0o755);
    await mkdir(join(stage, 'usr/lib/modules'), { recursive: true });
    await rename(modulesDir, join(stage, 'usr/lib/modules', release));
    // Root-owned, world-readable whoever builds; only usr/ and etc/ (merged /usr: tar must not replace /lib or /sbin, which are symlinks).
    const execa = await loadExeca();
    await execa('tar', ['--owner=0', '--group=0', '--numeric-owner', '--mode=u+rwX,go+rX,go-w', '-C', stage, '-cf', join(out, 'stage.tar'), 'etc', 'usr', CUSTOMIZE], { cancelSignal: signal });
    await rm(stage, { recursive: true, force: true });
    await rm(kernelTree, { recursive: true, force: true });
  });

  const { mode } = build.support;
  const tree = join(out, 'tree');
  await step('mmdebstrap', `${inputs.release}, mode ${mode}, --include=${inputs.packages.join(',')}`, () =>
    runMmdebstrap({
      mode,
      release: inputs.release,
      packages: inputs.packages,
      cwd: out,
      target: mode === 'root' ? 'tree' : 'tree.tar',
      customizeHooks: ['tar-in stage.tar /', `chroot "$1" /bin/sh /${CUSTOMIZE} ${release}`],
      signal,
      onInfo: (line) => build.onProgress(`debian image: mmdebstrap: ${line} [${elapsed()}]`),
    }),
  );

  const raw = join(out, 'root.ext4');
  const { packages, bytes } = await step('ext4', `mke2fs -d (${inputs.rootFsBytes / 1024 ** 3} GiB, sparse)`, async () => {
    await makeExt4({ mode, tree, tarball: mode === 'root' ? undefined : join(out, 'tree.tar'), image: raw, bytes: inputs.rootFsBytes, signal });
    const facts = { packages: await installedPackages(tree), bytes: await treeBytes(tree) };
    // fakeroot unpacked it with the tarball's modes: let its owner remove everything.
    if (mode === 'unshare') await (await loadExeca())('chmod', ['-R', 'u+rwX', tree]);
    await rm(tree, { recursive: true, force: true });
    await rm(join(out, 'tree.tar'), { force: true });
    await rm(join(out, 'stage.tar'), { force: true });
    return facts;
  });

  const disk = join(out, 'disk.qcow2');
  const diskInfo = await step('qcow2', 'qemu-img convert, sha256', async () => {
    await convertToQcow2(raw, disk, signal);
    await rm(raw);
    return { file: 'disk.qcow2', sha256: await sha256File(disk), size: (await stat(disk)).size, format: 'qcow2' as const };
  });

  const manifest: DebianImageManifest = {
    kind: 'debian',
    key: build.key,
    builder: inputs.builder,
    builtAt: new Date().toISOString(),
    cmdline: inputs.cmdline,
    debian: { release: inputs.release, variant: 'apt', include: [...inputs.packages], mmdebstrap: { version: build.support.version, mode } },
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
    modules,
    packages,
    tree: { bytes },
    rootFs: { type: 'ext4', label: ROOT_FS_LABEL, bytes: inputs.rootFsBytes, device: '/dev/vda' },
    buildSeconds: seconds,
    initrdCompression: 'gzip',
    outputs: {
      kernel: kernel.kernel,
      bzImage: kernel.bzImage,
      initrd: { file: 'initrd.img', sha256: sha256(initrd), size: initrd.length },
      disk: diskInfo,
    },
  };
  await writeManifest(out, manifest);
  build.onProgress(`debian image: built in ${elapsed()}`);
}

async function writeStaged(path: string, data: Buffer, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data, { mode });
  await chmod(path, mode);
}
