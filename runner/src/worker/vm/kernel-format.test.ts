import { describe, expect, it } from 'vitest';
import type { PreparedProfile } from '@provium/types';
import { bootKernel, checkKernelFormat, restoreLaunchOptions } from './kernel-format.js';

const base: PreparedProfile = { name: 'p', kernel: '/img/vmlinux', initrd: '/img/initrd.img', cmdline: '', memory: 1, cpus: 1, identity: 'x' };
const builtIn: PreparedProfile = { ...base, name: 'default', bzImage: '/img/vmlinuz' };
const userBz: PreparedProfile = { ...base, name: 'tiny', kernel: '/boot/bzImage', bzImage: '/boot/bzImage' };
const userElf: PreparedProfile = { ...base, name: 'elf', kernel: '/boot/vmlinux' };

describe('kernel_format', () => {
  it('boots the built-in vmlinux by default and its vmlinuz as "bzimage"', () => {
    expect(bootKernel(builtIn, undefined, 'vm "a"')).toEqual({ path: '/img/vmlinux', format: 'pvh' });
    expect(bootKernel(builtIn, 'pvh', 'vm "a"')).toEqual({ path: '/img/vmlinux', format: 'pvh' });
    expect(bootKernel(builtIn, 'bzimage', 'vm "a"')).toEqual({ path: '/img/vmlinuz', format: 'bzimage' });
  });

  it("takes a provium.toml profile's file as it is, and names it when the format asked is not its own", () => {
    expect(bootKernel(userBz, undefined, 'vm "a"')).toEqual({ path: '/boot/bzImage', format: 'bzimage' });
    expect(bootKernel(userBz, 'bzimage', 'vm "a"')).toEqual({ path: '/boot/bzImage', format: 'bzimage' });
    expect(() => bootKernel(userBz, 'pvh', 'vm "a"')).toThrow('vm "a": kernel_format "pvh": profile "tiny" boots the kernel file /boot/bzImage, a bzImage');
    expect(() => bootKernel(userElf, 'bzimage', 'vm "a"')).toThrow('profile "elf" boots the kernel file /boot/vmlinux, not a bzImage');
  });

  it('refuses other values at creation, naming the VM and the value', () => {
    expect(() => checkKernelFormat('a', 'zImage')).toThrow('VM "a": kernel_format must be "pvh" or "bzimage"; got "zImage"');
    expect(() => checkKernelFormat('a', undefined)).not.toThrow();
  });

  it('restores the file the snapshot booted; a snapshot from before the option booted the default', () => {
    expect(restoreLaunchOptions('a', builtIn, { append: 'x', kernelFormat: 'bzimage' }, [], []).kernel).toBe('/img/vmlinuz');
    expect(restoreLaunchOptions('a', builtIn, { append: 'x' }, [], []).kernel).toBe('/img/vmlinux');
  });
});
