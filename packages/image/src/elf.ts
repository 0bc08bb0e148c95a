/**
 * Minimal ELF64 readers for what the image builder must check on files that
 * belong to the guest, not the host.
 *
 * readModInfo reads the `.modinfo` section of a Linux kernel module (an ELF64
 * little-endian relocatable object): the `key=value` strings that modinfo(8)
 * prints, such as `depends`, `name` and `vermagic`. The host has no kmod, and
 * the modules belong to a kernel that is not the host's, so this is done here.
 */

export type ModInfo = Map<string, string>;

export function readModInfo(ko: Buffer, where: string): ModInfo {
  const fail = (why: string): never => {
    throw new Error(`${where}: not a readable x86-64 kernel module (${why})`);
  };
  if (ko.length < 64 || ko.readUInt32BE(0) !== 0x7f454c46) fail('no ELF magic');
  if (ko[4] !== 2 || ko[5] !== 1) fail('not ELF64 little-endian');
  const shoff = Number(ko.readBigUInt64LE(0x28));
  const shentsize = ko.readUInt16LE(0x3a);
  const shnum = ko.readUInt16LE(0x3c);
  const shstrndx = ko.readUInt16LE(0x3e);
  if (shoff + shnum * shentsize > ko.length || shstrndx >= shnum) fail('section table out of range');

  const section = (index: number) => {
    const base = shoff + index * shentsize;
    return { nameOffset: ko.readUInt32LE(base), offset: Number(ko.readBigUInt64LE(base + 0x18)), size: Number(ko.readBigUInt64LE(base + 0x20)) };
  };
  const names = section(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const start = names.offset + s.nameOffset;
    const name = ko.toString('latin1', start, ko.indexOf(0, start));
    if (name !== '.modinfo') continue;
    if (s.offset + s.size > ko.length) fail('.modinfo out of range');
    const info: ModInfo = new Map();
    for (const entry of ko.toString('utf8', s.offset, s.offset + s.size).split('\0')) {
      const eq = entry.indexOf('=');
      // Keys may repeat (alias=, parm=); the ones used here appear once.
      if (eq > 0 && !info.has(entry.slice(0, eq))) info.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    return info;
  }
  return fail('no .modinfo section');
}

/**
 * True when `elf` is an x86-64 executable without a program interpreter
 * (statically linked), i.e. it runs in a guest that has no libc.
 */
export function isStaticX86_64Executable(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return false;
  if (elf.readUInt16LE(0x12) !== 62 /* EM_X86_64 */) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  if (phoff + phnum * phentsize > elf.length) return false;
  for (let i = 0; i < phnum; i++) {
    if (elf.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) return false;
  }
  return true;
}

/**
 * True when the ELF has a Xen PHYS32_ENTRY note: QEMU can then boot it
 * directly (PVH), without firmware and without the bzImage decompressor.
 */
export function hasPvhEntryNote(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 0x30 > elf.length || elf.readUInt32LE(ph) !== 4 /* PT_NOTE */) continue;
    const start = Number(elf.readBigUInt64LE(ph + 0x08));
    const end = Math.min(start + Number(elf.readBigUInt64LE(ph + 0x20)), elf.length);
    for (let at = start; at + 12 <= end; ) {
      const namesz = elf.readUInt32LE(at);
      const descsz = elf.readUInt32LE(at + 4);
      const type = elf.readUInt32LE(at + 8);
      const name = elf.toString('latin1', at + 12, at + 12 + Math.max(namesz - 1, 0));
      if (name === 'Xen' && type === 18 /* XEN_ELFNOTE_PHYS32_ENTRY */) return true;
      at += 12 + Math.ceil(namesz / 4) * 4 + Math.ceil(descsz / 4) * 4;
    }
  }
  return false;
}
