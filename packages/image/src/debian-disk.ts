/**
 * The debian guest's disk: its root tree as an ext4 file system made without
 * mounting anything (`mke2fs -d`), converted to qcow2. Also what the tree
 * tells the manifest: its size and the Debian packages installed in it.
 */
import { readFile } from 'node:fs/promises';
import type { MmdebstrapMode } from './mmdebstrap.js';
import { loadExeca } from './load-execa.js';

/** Size of the root file system (sparse: the qcow2 holds only what is used), room for `apt-get install` in tests. */
export const ROOT_FS_BYTES = 4 * 1024 ** 3;
export const ROOT_FS_LABEL = 'provium-root';

/**
 * Inode tables and journal are written now (zeroes, which qemu-img leaves
 * out of the qcow2) rather than by the guest kernel's lazy init, which would
 * write them into every VM's overlay, at emulated speed.
 */
const MKE2FS_ARGS = ['-q', '-t', 'ext4', '-L', ROOT_FS_LABEL, '-E', 'lazy_itable_init=0,lazy_journal_init=0', '-F'];

export interface Ext4Job {
  mode: MmdebstrapMode;
  /** The root tree: a directory (mode root), or the directory to unpack `tarball` into (mode unshare). */
  tree: string;
  tarball?: string;
  /** The raw image to write, and the size of its file system. */
  image: string;
  bytes: number;
  signal: AbortSignal;
}

async function run(step: string, command: string, args: string[], signal: AbortSignal, fix: string): Promise<void> {
  const execa = await loadExeca();
  const result = await execa(command, args, { reject: false, stdin: 'ignore', all: true, cancelSignal: signal, env: { LC_ALL: 'C' } });
  if (result.isCanceled) throw signal.reason as Error;
  if (result.code === 'ENOENT') throw new Error(`${step}: ${command} not found; ${fix}`);
  if (result.failed) throw new Error(`${step}: \`${command} ${args.join(' ')}\` failed (exit ${result.exitCode ?? result.signal}): ${(result.all ?? '').trim().split('\n').slice(-10).join('\n')}`);
}

/**
 * Makes the ext4 image. A tree from mode unshare is unpacked and read under
 * fakeroot, which keeps the tarball's owners and device nodes for mke2fs.
 */
export async function makeExt4(job: Ext4Job): Promise<void> {
  const mke2fs = [...MKE2FS_ARGS, '-d', job.tree, job.image, `${job.bytes / 1024}k`];
  if (job.mode === 'root') {
    await run('mke2fs', 'mke2fs', mke2fs, job.signal, 'install e2fsprogs (scripts/setup.sh)');
    return;
  }
  const script = 'mkdir "$1" && tar --numeric-owner -xpf "$2" -C "$1" && shift 2 && mke2fs "$@"';
  await run('fakeroot tar + mke2fs', 'fakeroot', ['--', 'sh', '-c', script, 'sh', job.tree, job.tarball!, ...mke2fs], job.signal, 'install fakeroot and e2fsprogs (scripts/setup.sh)');
}

/** raw → qcow2 (zero clusters are left out). */
export async function convertToQcow2(raw: string, qcow2: string, signal: AbortSignal): Promise<void> {
  await run('qemu-img convert', 'qemu-img', ['convert', '-O', 'qcow2', raw, qcow2], signal, 'install qemu-utils (scripts/setup.sh)');
}

/** Bytes in the tree (apparent sizes, `du -sb`). */
export async function treeBytes(tree: string): Promise<number> {
  const execa = await loadExeca();
  const { stdout } = await execa('du', ['-sb', tree]);
  return Number(stdout.split('\t')[0]);
}

export interface InstalledPackage {
  name: string;
  version: string;
  arch: string;
}

/** The packages dpkg has installed in the tree (its var/lib/dpkg/status), by name. */
export async function installedPackages(tree: string): Promise<InstalledPackage[]> {
  const packages: InstalledPackage[] = [];
  for (const stanza of (await readFile(`${tree}/var/lib/dpkg/status`, 'utf8')).split(/\n\n+/)) {
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1];
    const name = field('Package');
    const version = field('Version');
    if (name && version && field('Status') === 'install ok installed') packages.push({ name, version, arch: field('Architecture') ?? '' });
  }
  return packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
