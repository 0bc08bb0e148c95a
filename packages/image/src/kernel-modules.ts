/**
 * Which kernel modules go into the default guest, and in which order busybox
 * `insmod` (which does not resolve dependencies) must load them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readModInfo } from './elf.js';

/**
 * Modules the default guest loads; their dependencies are added from each
 * module's `depends`. Debian's kernel builds these as modules (virtio, the
 * ACPI power button and evdev for `acpid`); af_packet and vmgenid are built in.
 */
export const GUEST_MODULES: readonly string[] = [
  'virtio_pci', // the PCI transport of every virtio device
  'virtio_console', // virtio-serial: the agent's channel
  'virtio_blk', // disks
  'virtio_net', // network (with failover, net_failover)
  'virtio_rng', // entropy from the host when a virtio-rng device is present
  'button', // ACPI power button (QEMU system_powerdown)
  'evdev', // /dev/input/event* that acpid reads the power button from
];

export interface ModuleFile {
  /** Module name as the kernel knows it (underscores): `virtio_pci`. */
  name: string;
  /** Path below /lib/modules/<release>/: `kernel/drivers/virtio/virtio_pci.ko`. */
  file: string;
  /** Names of the modules it needs, as listed by its `depends`. */
  depends: string[];
}

const canonical = (name: string): string => name.replace(/-/g, '_');

/**
 * The modules named in `wanted` plus everything they depend on, dependencies
 * first. `modulesDir` is `lib/modules/<release>` of an extracted kernel package.
 * Dependencies built into the kernel (modules.builtin) are skipped.
 */
export async function moduleLoadOrder(modulesDir: string, release: string, wanted: readonly string[]): Promise<ModuleFile[]> {
  const pathsByName = new Map<string, string>();
  for (const line of (await readFile(join(modulesDir, 'modules.order'), 'utf8')).split('\n')) {
    const file = line.trim();
    if (file.endsWith('.ko')) pathsByName.set(canonical(file.slice(file.lastIndexOf('/') + 1, -3)), file);
  }
  const builtin = new Set(
    (await readFile(join(modulesDir, 'modules.builtin'), 'utf8'))
      .split('\n')
      .filter((line) => line.endsWith('.ko'))
      .map((line) => canonical(line.slice(line.lastIndexOf('/') + 1, -3))),
  );

  const order: ModuleFile[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = async (name: string, neededBy: string): Promise<void> => {
    if (state.get(name) === 'done' || builtin.has(name)) return;
    if (state.get(name) === 'visiting') throw new Error(`kernel ${release}: module dependency cycle through ${name}`);
    const file = pathsByName.get(name);
    if (!file) throw new Error(`kernel ${release}: module ${name} (${neededBy}) is neither a module (modules.order) nor built in (modules.builtin)`);
    state.set(name, 'visiting');
    const info = readModInfo(await readFile(join(modulesDir, file)), `kernel ${release}: ${file}`);
    const vermagic = info.get('vermagic') ?? '';
    if (vermagic.split(' ')[0] !== release) throw new Error(`kernel ${release}: ${file} was built for "${vermagic}"`);
    const depends = (info.get('depends') ?? '').split(',').filter(Boolean).map(canonical);
    for (const dep of depends) await visit(dep, `needed by ${name}`);
    state.set(name, 'done');
    order.push({ name, file, depends });
  };
  for (const name of wanted) await visit(canonical(name), 'wanted by the guest');
  return order;
}
