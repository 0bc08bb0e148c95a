/**
 * Pieces shared by the initramfs of the built-in guests: busybox with its
 * applets, and kernel modules with the list /init insmods them from.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CpioEntry } from './cpio.js';
import { type HostBinary, busyboxApplets } from './guest-inputs.js';
import { type ModuleFile, moduleLoadOrder } from './kernel-modules.js';

export interface ModuleData extends ModuleFile {
  data: Buffer;
}

/** `wanted` and their dependencies from `modulesDir` (lib/modules/<release>), in load order, with content. */
export async function readModules(modulesDir: string, release: string, wanted: readonly string[]): Promise<ModuleData[]> {
  const modules = await moduleLoadOrder(modulesDir, release, wanted);
  return Promise.all(modules.map(async (m) => ({ ...m, data: await readFile(join(modulesDir, m.file)) })));
}

/** /bin/busybox and a symlink to it for each applet, except the paths in `skip`. */
export async function busyboxEntries(busybox: HostBinary, skip: ReadonlySet<string>): Promise<CpioEntry[]> {
  const entries: CpioEntry[] = [{ type: 'file', path: 'bin/busybox', mode: 0o755, data: busybox.data }];
  for (const applet of await busyboxApplets(busybox)) {
    if (!skip.has(applet) && applet !== 'bin/busybox') entries.push({ type: 'symlink', path: applet, target: '/bin/busybox' });
  }
  return entries;
}

/** The modules below lib/modules/<release>/ and `provium.load`, their paths in load order (read by /init). */
export function moduleEntries(release: string, modules: readonly ModuleData[]): CpioEntry[] {
  const dir = `lib/modules/${release}`;
  return [
    ...modules.map((m): CpioEntry => ({ type: 'file', path: `${dir}/${m.file}`, mode: 0o644, data: m.data })),
    { type: 'file', path: `${dir}/provium.load`, mode: 0o644, data: Buffer.from(modules.map((m) => `${m.file}\n`).join('')) },
  ];
}
