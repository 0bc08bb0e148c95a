/**
 * Debian ships the kernel as an xz-compressed bzImage. Under TCG the
 * in-guest decompression and the firmware path cost about 3 s per cold boot;
 * the ELF vmlinux inside it carries a PVH entry note, which QEMU boots
 * directly. The builder stores that vmlinux when the kernel allows it (a
 * property of the kernel alone, so the output stays a function of the inputs),
 * else the bzImage. It keeps the bzImage beside it too: a PVH-booted kernel
 * cannot resume from ACPI S3 (its wakeup resets the guest), so a VM that
 * suspends boots the bzImage (`kernel_format = "bzimage"`, docs/vms.md).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasPvhEntryNote } from './elf.js';
import { sha256 } from './hash.js';
import { loadExeca } from './load-execa.js';
import type { BuiltFile } from './manifest.js';

export type KernelBootFormat = 'pvh-elf' | 'bzImage';

export interface BootableKernel {
  format: KernelBootFormat;
  data: Buffer;
  /** Why the bzImage is used as it is (format "bzImage"). */
  reason?: string;
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** The compressed payload of a bzImage (x86 boot protocol >= 2.08), without its trailing 4-byte size. */
export function bzImagePayload(bzImage: Buffer): Buffer | string {
  if (bzImage.length < 0x250 || bzImage.toString('latin1', 0x202, 0x206) !== 'HdrS') return 'no bzImage header';
  if (bzImage.readUInt16LE(0x206) < 0x208) return 'boot protocol older than 2.08';
  const setupSectors = bzImage[0x1f1] || 4;
  const start = (setupSectors + 1) * 512 + bzImage.readUInt32LE(0x248);
  const length = bzImage.readUInt32LE(0x24c);
  if (length < 4 || start + length > bzImage.length) return 'payload out of range';
  return bzImage.subarray(start, start + length - 4);
}

/** The best kernel file to boot for `bzImage`: its PVH vmlinux when extractable, else the bzImage. */
export async function bootableKernel(bzImage: Buffer): Promise<BootableKernel> {
  const keep = (reason: string): BootableKernel => ({ format: 'bzImage', data: bzImage, reason });
  const payload = bzImagePayload(bzImage);
  if (typeof payload === 'string') return keep(payload);
  if (!payload.subarray(0, 6).equals(XZ_MAGIC)) return keep('payload is not xz-compressed');
  const execa = await loadExeca();
  const result = await execa('xz', ['-dc'], { input: payload, encoding: 'buffer', reject: false, maxBuffer: 512 * 1024 * 1024 });
  if (result.code === 'ENOENT') throw new Error('xz is not installed: `apt-get install xz-utils` (scripts/setup.sh)');
  if (result.failed) throw new Error(`xz -dc of the kernel payload failed: ${Buffer.from(result.stderr).toString().trim()}`);
  const vmlinux = Buffer.from(result.stdout);
  if (!hasPvhEntryNote(vmlinux)) return keep('vmlinux has no PVH entry note');
  return { format: 'pvh-elf', data: vmlinux };
}

/** The kernel files of a built image: what VMs boot by default, and the bzImage. */
export interface BootKernelFiles {
  format: KernelBootFormat;
  reason?: string;
  kernel: BuiltFile;
  /** The package's vmlinuz itself; the same file as `kernel` when that is the bzImage already. */
  bzImage: BuiltFile;
}

/** Writes the bootable kernel of `vmlinuz` into `dir` (`vmlinux`, or `vmlinuz`), and `vmlinuz` beside a vmlinux. */
export async function writeBootKernels(dir: string, vmlinuz: Buffer): Promise<BootKernelFiles> {
  const bootable = await bootableKernel(vmlinuz);
  const bzImage: BuiltFile = { file: 'vmlinuz', sha256: sha256(vmlinuz), size: vmlinuz.length };
  await writeFile(join(dir, bzImage.file), vmlinuz);
  let kernel = bzImage;
  if (bootable.format === 'pvh-elf') {
    kernel = { file: 'vmlinux', sha256: sha256(bootable.data), size: bootable.data.length };
    await writeFile(join(dir, kernel.file), bootable.data);
  }
  return { format: bootable.format, ...(bootable.reason ? { reason: bootable.reason } : {}), kernel, bzImage };
}
