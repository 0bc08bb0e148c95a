/**
 * Writer for "newc" cpio archives, the format the Linux kernel unpacks as an
 * initramfs. Written here rather than with cpio(1) so that archives are
 * byte-for-byte reproducible (fixed owners and mtimes) and can hold device
 * nodes without root.
 */

export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Uint8Array; mode: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'chardev'; path: string; mode: number; major: number; minor: number };

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TRAILER = 'TRAILER!!!';

function pad4(length: number): number {
  return (4 - (length % 4)) % 4;
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function normalize(path: string): string {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '' || trimmed.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`cpio: invalid archive path "${path}"`);
  }
  return trimmed;
}

function record(ino: number, name: string, mode: number, data: Uint8Array, rdev: [number, number] = [0, 0]): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const nlink = (mode & S_IFMT) === S_IFDIR ? 2 : 1;
  const fields = [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`, 'ascii');
  return [header, nameBytes, Buffer.alloc(pad4(header.length + nameBytes.length)), Buffer.from(data), Buffer.alloc(pad4(data.length))];
}

/**
 * One newc archive (with trailer) holding `entries` in order. Missing parent
 * directories are added (mode 0755) before their first child. Owner root:root,
 * mtime 0.
 */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  const seen = new Set<string>();
  let ino = 1;
  const add = (name: string, mode: number, data: Uint8Array, rdev?: [number, number]): void => {
    if (seen.has(name)) throw new Error(`cpio: duplicate archive path "${name}"`);
    seen.add(name);
    chunks.push(...record(ino++, name, mode, data, rdev));
  };
  const ensureParents = (name: string): void => {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!seen.has(dir)) add(dir, S_IFDIR | 0o755, new Uint8Array());
    }
  };
  for (const entry of entries) {
    const name = normalize(entry.path);
    ensureParents(name);
    switch (entry.type) {
      case 'dir':
        add(name, S_IFDIR | (entry.mode ?? 0o755), new Uint8Array());
        break;
      case 'file':
        add(name, S_IFREG | entry.mode, entry.data);
        break;
      case 'symlink':
        add(name, S_IFLNK | 0o777, Buffer.from(entry.target, 'utf8'));
        break;
      case 'chardev':
        add(name, S_IFCHR | entry.mode, new Uint8Array(), [entry.major, entry.minor]);
        break;
    }
  }
  chunks.push(...record(0, TRAILER, 0, new Uint8Array()));
  return Buffer.concat(chunks);
}
