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

export interface DefaultImageManifest {
  kind: 'default';
  /** Content key: sha256 over every input below; the directory is named after it. */
  key: string;
  /** sha256 of the image builder's own code (a changed builder rebuilds). */
  builder: string;
  builtAt: string;
  cmdline: string;
  kernel: {
    metaPackage: string;
    package: string;
    version: string;
    /** `uname -r` in the guest. */
    release: string;
    deb: string;
    debSha256: string;
    /** The package's /boot/vmlinuz-<release>. */
    vmlinuzSha256: string;
    /** "pvh-elf": outputs.kernel is the vmlinux inside vmlinuz, booted directly; "bzImage": vmlinuz itself. */
    bootFormat: KernelBootFormat;
    bootFormatReason?: string;
  };
  busybox: HashedInput & { package: 'busybox-static'; version?: string };
  agent: HashedInput;
  /** Files of packages/image/guest/rootfs, with their guest paths; `init` is the init script. */
  guestFiles: { path: string; mode: string; sha256: string }[];
  /** Loaded in this order by /init. */
  modules: { name: string; file: string; depends: string[]; sha256: string }[];
  initrdCompression: 'gzip';
  outputs: { kernel: BuiltFile; initrd: BuiltFile };
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
  guestFiles: { path: string; mode: string; sha256: string }[];
  outputs: { initrd: BuiltFile };
}

export type ImageManifest = DefaultImageManifest | InjectedInitrdManifest;

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
