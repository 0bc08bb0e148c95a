/**
 * Debian's kernel for the default guest: `linux-image-amd64` resolved to the
 * concrete `linux-image-<release>` package that apt would install, fetched
 * with `apt-get download` into the cache (nothing is installed on the host).
 */
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, sweepStaleTemps } from './atomic-install.js';
import { sha256, sha256File } from './hash.js';
import { loadExeca } from './load-execa.js';

export const KERNEL_META_PACKAGE = 'linux-image-amd64';

export interface KernelPackage {
  /** Concrete package: `linux-image-6.1.0-56-amd64`. */
  name: string;
  /** Debian version: `6.1.192-2`. */
  version: string;
  /** sha256 of the .deb as published in apt's package index. */
  sha256: string;
  /** File name of the .deb as apt-get download saves it. */
  debFile: string;
}

const SETUP_HINT = 'run scripts/setup.sh (or `apt-get update`) so that apt knows the package';

type Stanza = Map<string, string>;

/**
 * Candidate versions of the packages matching `patterns`, one stanza each
 * (`apt-cache show --no-all-versions`). Each call costs about a second where
 * apt keeps no binary cache (Docker images), hence one call for several names.
 */
async function aptShow(patterns: string[]): Promise<Stanza[]> {
  const execa = await loadExeca();
  const result = await execa('apt-cache', ['show', '--no-all-versions', ...patterns], { reject: false, env: { LC_ALL: 'C' } });
  if (result.code === 'ENOENT') throw new Error(`cannot resolve ${patterns[0]}: apt-cache is not installed (the default image needs Debian's kernel package)`);
  return result.stdout.split(/\n\s*\n/).map((block) => {
    const fields: Stanza = new Map();
    for (const line of block.split('\n')) {
      const m = /^([A-Za-z0-9-]+): (.*)$/.exec(line);
      if (m && !fields.has(m[1])) fields.set(m[1], m[2]);
    }
    return fields;
  });
}

// Debian 12's concrete kernels: linux-image-6.1.0-56-amd64. Asked for together
// with the meta package to save an apt-cache call.
const CONCRETE_KERNEL_RE = '^linux-image-[0-9.]+-[0-9]+-amd64$';

/** The concrete kernel package behind `linux-image-amd64`, as apt's candidate. */
export async function resolveKernelPackage(): Promise<KernelPackage> {
  const stanzas = await aptShow([KERNEL_META_PACKAGE, CONCRETE_KERNEL_RE]);
  const meta = stanzas.find((s) => s.get('Package') === KERNEL_META_PACKAGE);
  if (!meta) throw new Error(`apt knows no candidate of ${KERNEL_META_PACKAGE}; ${SETUP_HINT}`);
  const name = /(?:^|,\s*)(linux-image-[0-9][^\s,(|]*)/.exec(meta.get('Depends') ?? '')?.[1];
  if (!name) throw new Error(`cannot resolve ${KERNEL_META_PACKAGE}: no linux-image-<release> in its Depends ("${meta.get('Depends') ?? ''}")`);
  const fields = stanzas.find((s) => s.get('Package') === name) ?? (await aptShow([name])).find((s) => s.get('Package') === name);
  const version = fields?.get('Version');
  const sha256 = fields?.get('SHA256');
  if (!fields || !version || !sha256) throw new Error(`apt knows no candidate (Version, SHA256) of ${name}, which ${KERNEL_META_PACKAGE} depends on; ${SETUP_HINT}`);
  // apt-get download names the file <name>_<version with ':' escaped>_<arch>.deb
  const arch = fields.get('Architecture') ?? 'amd64';
  return { name, version, sha256, debFile: `${name}_${version.replace(/:/g, '%3a')}_${arch}.deb` };
}

// What decides apt's candidate: the package lists, pinning and the dpkg status.
const APT_STATE = ['/var/lib/apt/lists', '/etc/apt/preferences', '/etc/apt/preferences.d', '/var/lib/dpkg/status'];
const RESOLUTION_FILE = 'kernel-resolution.json';

/** A fingerprint (names, sizes, mtimes) of apt's state; it changes with `apt-get update`. */
async function aptStateStamp(): Promise<string> {
  const parts: [string, number, number][] = [];
  const add = async (path: string): Promise<void> => {
    try {
      const info = await stat(path);
      if (info.isDirectory()) {
        for (const name of (await readdir(path)).sort()) await add(`${path}/${name}`);
      } else parts.push([path, info.size, info.mtimeMs]);
    } catch {
      // absent: part of the state too
    }
  };
  for (const path of APT_STATE) await add(path);
  return sha256(JSON.stringify(parts));
}

/**
 * resolveKernelPackage, remembered in `downloadsDir` until apt's state
 * changes: asking apt-cache costs about a second per run where apt keeps no
 * binary cache.
 */
export async function resolveKernelPackageCached(downloadsDir: string): Promise<KernelPackage> {
  const stamp = await aptStateStamp();
  const file = join(downloadsDir, RESOLUTION_FILE);
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as { stamp: string; kernel: KernelPackage };
    if (saved.stamp === stamp && saved.kernel?.name && saved.kernel.version && saved.kernel.sha256 && saved.kernel.debFile) return saved.kernel;
  } catch {
    // not resolved yet, or unreadable: resolve again
  }
  const kernel = await resolveKernelPackage();
  const temp = await makeTempDir(downloadsDir);
  try {
    await writeFile(join(temp, RESOLUTION_FILE), JSON.stringify({ stamp, kernel }));
    await rename(join(temp, RESOLUTION_FILE), file);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return kernel;
}

/** `linux-image-6.1.0-56-amd64` → `6.1.0-56-amd64` (the `uname -r` of the guest). */
export function kernelRelease(pkg: KernelPackage): string {
  return pkg.name.slice('linux-image-'.length);
}

/**
 * Path of the package's .deb in `downloadsDir`, downloading it first when it
 * is not there. The download lands in a temp dir, is checked against apt's
 * sha256 and renamed into place, so the cache never holds a partial file.
 */
export async function fetchKernelPackage(pkg: KernelPackage, downloadsDir: string, onProgress: (message: string) => void): Promise<string> {
  const target = join(downloadsDir, pkg.debFile);
  try {
    if ((await stat(target)).isFile()) return target;
  } catch {
    // not downloaded yet
  }
  onProgress(`downloading ${pkg.name} ${pkg.version}`);
  await sweepStaleTemps(downloadsDir);
  const temp = await makeTempDir(downloadsDir);
  try {
    // As root, apt drops privileges to _apt, which cannot write into a private cache dir.
    const sandbox = process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : [];
    const execa = await loadExeca();
    const result = await execa('apt-get', [...sandbox, '-q', 'download', `${pkg.name}=${pkg.version}`], { cwd: temp, reject: false, env: { LC_ALL: 'C' } });
    if (result.failed) {
      throw new Error(`apt-get download ${pkg.name}=${pkg.version} failed (exit ${result.exitCode ?? result.code}): ${(result.stderr || result.stdout).trim()}; ${SETUP_HINT}`);
    }
    const downloaded = join(temp, pkg.debFile);
    const actual = await sha256File(downloaded);
    if (actual !== pkg.sha256) throw new Error(`downloaded ${pkg.debFile} has sha256 ${actual}, apt's index says ${pkg.sha256}; run \`apt-get update\` and retry`);
    await rename(downloaded, target);
    return target;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
