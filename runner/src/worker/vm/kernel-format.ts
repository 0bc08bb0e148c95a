/**
 * Which kernel file a VM boots (`VmOpts.kernel_format`). The built-in images
 * boot the ELF vmlinux through PVH (~3 s faster per cold boot under TCG), and
 * keep the bzImage beside it: a PVH-booted kernel cannot resume from suspend
 * to RAM, so a VM that uses `vm:wakeup()` boots the bzImage. A snapshot
 * records the format, and its restores launch the same file (the firmware's
 * boot ROM differs between the two and is part of the saved machine).
 */
import type { RestoreLaunchOptions } from '@provium/qemu';
import type { PreparedProfile } from '@provium/types';

export type KernelFormat = 'pvh' | 'bzimage';
export const KERNEL_FORMATS: readonly string[] = ['pvh', 'bzimage'] satisfies KernelFormat[];

/** What `kernel_format` may be, checked when the VM is created. */
export function checkKernelFormat(vm: string, format: string | undefined): void {
  if (format !== undefined && !KERNEL_FORMATS.includes(format)) {
    throw new Error(`VM "${vm}": kernel_format must be "pvh" or "bzimage"; got "${format}"`);
  }
}

/** The kernel file for `format` (the profile's own format when undefined), and the format it boots as. */
export function bootKernel(profile: PreparedProfile, format: string | undefined, label: string): { path: string; format: KernelFormat } {
  // A profile's kernel is a bzImage (its own bzImage) or else an ELF that QEMU boots through PVH.
  const own: KernelFormat = profile.bzImage === profile.kernel ? 'bzimage' : 'pvh';
  if (format === undefined || format === own) return { path: profile.kernel, format: own };
  if (format === 'bzimage' && profile.bzImage !== undefined) return { path: profile.bzImage, format: 'bzimage' };
  const what = own === 'bzimage' ? 'a bzImage, which boots through the firmware' : 'not a bzImage';
  throw new Error(`${label}: kernel_format "${format}": profile "${profile.name}" boots the kernel file ${profile.kernel}, ${what}; point the profile's kernel at the format you want in provium.toml, or drop kernel_format`);
}

/** The launch line of a restore (what a spare made ahead must match), from what the snapshot recorded of the VM. */
export function restoreLaunchOptions(
  name: string,
  profile: PreparedProfile,
  recorded: { append: string; kernelFormat?: unknown },
  disks: RestoreLaunchOptions['disks'],
  extraArgs: string[],
): RestoreLaunchOptions {
  const kernel = restoreKernel(profile, recorded, `vm "${name}"`).path;
  return { name, kernel, initrd: profile.initrd, append: recorded.append, disks, extraArgs };
}

/** The kernel a snapshot's VM booted; snapshots from before kernel_format existed booted the profile's own. */
export function restoreKernel(profile: PreparedProfile, recorded: { kernelFormat?: unknown }, label: string): { path: string; format: KernelFormat } {
  return bootKernel(profile, typeof recorded.kernelFormat === 'string' ? recorded.kernelFormat : undefined, label);
}
