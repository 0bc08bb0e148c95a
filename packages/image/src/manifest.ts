/**
 * The manifest.json written next to every built image: what went in (exact
 * versions and sha256 of each input) and what came out.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KernelBootFormat } from './kernel-image.js';

export const MANIFEST_FILE = 'manifest.json';

export interface HashedInput {
  path: string;
  sha256: string;
}

export interface BuiltFile {
  /** File name inside the image directory. */
  file: string;
  sha256: string;
  size: number;
}

/** The Debian kernel package an image boots. */
export interface KernelInput {
  metaPackage: string;
  package: string;
  version: string;
  /** `uname -r` in the guest. */
  release: string;
  deb: string;
  debSha256: string;
  /** The package's /boot/vmlinuz-<release>. */
  vmlinuzSha256: string;
  /** "pvh-elf": outputs.kernel is the vmlinux inside vmlinuz, booted directly; "bzImage": vmlinuz itself (outputs.bzImage is vmlinuz either way). */
  bootFormat: KernelBootFormat;
  bootFormatReason?: string;
}

export type GuestFileRecord = { path: string; mode: string; sha256: string };
/** Kernel modules of an initramfs, loaded in this order by its /init. */
export type ModuleRecord = { name: string; file: string; depends: string[]; sha256: string };
export type BusyboxInput = HashedInput & { package: 'busybox-static'; version?: string };

export interface DefaultImageManifest {
  kind: 'default';
  /** Content key: sha256 over every input below; the directory is named after it. */
  key: string;
  /** sha256 of the image builder's own code (a changed builder rebuilds). */
  builder: string;
  builtAt: string;
  cmdline: string;
  kernel: KernelInput;
  busybox: BusyboxInput;
  agent: HashedInput;
  /** Files of packages/image/guest/rootfs, with their guest paths; `init` is the init script. */
  guestFiles: GuestFileRecord[];
  modules: ModuleRecord[];
  initrdCompression: 'gzip';
  /** `bzImage`: the kernel as the package ships it, for VMs booted with `kernel_format = "bzimage"`. */
  outputs: { kernel: BuiltFile; bzImage: BuiltFile; initrd: BuiltFile };
}

export interface DebianImageManifest {
  kind: 'debian';
  /** Content key over the inputs (not over the mirror's package versions: see `packages`). */
  key: string;
  builder: string;
  builtAt: string;
  cmdline: string;
  debian: {
    release: string;
    variant: 'apt';
    /** mmdebstrap --include. */
    include: string[];
    mmdebstrap: { version: string; mode: 'root' | 'unshare' };
  };
  kernel: KernelInput;
  busybox: BusyboxInput;
  agent: HashedInput;
  /** Files of packages/image/guest/debian (rootfs/… go into the tree, initramfs/init is the initramfs' /init). */
  guestFiles: GuestFileRecord[];
  /** In the initramfs: what mounting /dev/vda (ext4 on virtio-blk) and the agent's port need. */
  modules: ModuleRecord[];
  /** Every package installed in the tree, with the version the mirror had at build time. */
  packages: { name: string; version: string; arch: string }[];
  /** The root tree: apparent bytes (du -sb) before it became the file system. */
  tree: { bytes: number };
  rootFs: { type: 'ext4'; label: string; bytes: number; device: '/dev/vda' };
  /** Seconds each build step took. */
  buildSeconds: Record<string, number>;
  initrdCompression: 'gzip';
  outputs: { kernel: BuiltFile; bzImage: BuiltFile; initrd: BuiltFile; disk: BuiltFile & { format: 'qcow2' } };
}

export interface InjectedInitrdManifest {
  kind: 'inject_agent';
  key: string;
  builder: string;
  builtAt: string;
  /** The profile's own initrd, unchanged at the start of the output. */
  baseInitrd: HashedInput;
  /** The init the wrapper hands PID 1 to. */
  targetInit: string;
  busybox: HashedInput;
  agent: HashedInput;
  guestFiles: GuestFileRecord[];
  outputs: { initrd: BuiltFile };
}

export type ImageManifest = DefaultImageManifest | DebianImageManifest | InjectedInitrdManifest;

export async function writeManifest(dir: string, manifest: ImageManifest): Promise<void> {
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

export async function readManifest<T extends ImageManifest>(dir: string, kind: T['kind']): Promise<T> {
  const path = join(dir, MANIFEST_FILE);
  let manifest: T;
  try {
    manifest = JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    throw new Error(`cannot read image manifest ${path}: ${(error as Error).message}; delete ${dir} to rebuild it`);
  }
  if (manifest.kind !== kind) throw new Error(`image manifest ${path} is of kind "${manifest.kind}", expected "${kind}"; delete ${dir} to rebuild it`);
  return manifest;
}

export function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
