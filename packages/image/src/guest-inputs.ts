/**
 * Host files that go into guest images: the guest tree shipped with this
 * package (packages/image/guest), busybox from Debian's busybox-static, and
 * the static Provium agent. Each is read and hashed; the hashes form the
 * cache keys.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAgentBuilt } from '@provium/agent';
import { isStaticX86_64Executable } from './elf.js';
import { sha256 } from './hash.js';
import { loadExeca } from './load-execa.js';

/** packages/image/guest (from dist/ or src/ alike). */
export const GUEST_DIR = fileURLToPath(new URL('../guest/', import.meta.url));

export interface GuestFile {
  /** Path inside the guest, without leading slash: `etc/inittab`. */
  path: string;
  mode: number;
  data: Buffer;
  sha256: string;
}

export interface HostBinary {
  path: string;
  data: Buffer;
  sha256: string;
}

/** Every file below `dir`, sorted by path; executable on the host → 0755 in the guest. */
export async function readGuestTree(dir: string): Promise<GuestFile[]> {
  const files: GuestFile[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const data = await readFile(full);
        const mode = (await stat(full)).mode & 0o111 ? 0o755 : 0o644;
        files.push({ path: relative(dir, full), mode, data, sha256: sha256(data) });
      }
    }
  };
  await walk(dir);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function readStaticBinary(path: string, what: string, fix: string): Promise<HostBinary> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw new Error(`${what} not found at ${path} (${(error as NodeJS.ErrnoException).code}); ${fix}`);
  }
  if (!isStaticX86_64Executable(data)) throw new Error(`${what} at ${path} is not a statically linked x86-64 executable; ${fix}`);
  return { path, data, sha256: sha256(data) };
}

export const BUSYBOX_PATH = '/bin/busybox';

/** Debian's static busybox (package busybox-static). */
export function readBusybox(path = BUSYBOX_PATH): Promise<HostBinary> {
  return readStaticBinary(path, 'busybox', 'install it with `apt-get install busybox-static` (scripts/setup.sh)');
}

/** The agent binary: `agentBinary` when given, else the one packages/agent builds. */
export async function readAgent(agentBinary?: string): Promise<HostBinary> {
  const path = agentBinary ?? (await ensureAgentBuilt());
  return readStaticBinary(path, 'the Provium agent', 'rebuild it (packages/agent) as a static binary');
}

/** Applet paths of a busybox binary (`bin/ls`, `sbin/init`, ...); top-level ones are left out. */
export async function busyboxApplets(busybox: HostBinary): Promise<string[]> {
  const execa = await loadExeca();
  const { stdout } = await execa(busybox.path, ['--list-full']);
  return stdout.split('\n').map((line) => line.trim()).filter((line) => line.includes('/'));
}

/** Installed version of a Debian package, for the manifest; undefined when unknown. */
export async function debianPackageVersion(pkg: string): Promise<string | undefined> {
  const execa = await loadExeca();
  const result = await execa('dpkg-query', ['-W', '-f=${Version}', pkg], { reject: false });
  return result.failed || !result.stdout ? undefined : result.stdout;
}
