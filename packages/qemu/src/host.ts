import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { delimiter, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';

export const QEMU_BINARY = 'qemu-system-x86_64';

export type Accel = 'kvm' | 'tcg';

export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
  /** The whole first line of `--version`, e.g. "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)". */
  text: string;
}

const INSTALL_HINT: Record<string, string> = {
  [QEMU_BINARY]: 'install the Debian package qemu-system-x86 (scripts/setup.sh does)',
  setpriv: 'install the Debian package util-linux (scripts/setup.sh does)',
};

/** Resolves `name` through PATH (or checks it when it is a path); throws naming what to install. */
export function findExecutable(name: string): string {
  const candidates = isAbsolute(name) || name.includes('/')
    ? [name]
    : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // try the next one
    }
  }
  const hint = INSTALL_HINT[name] ?? 'check the path';
  throw new Error(`${name} not found${name.includes('/') ? '' : ' on PATH'}: ${hint}`);
}

const versions = new Map<string, Promise<QemuVersion>>();

/** Version of the QEMU binary, parsed from `--version`; cached per binary. */
export function qemuVersion(binary: string = QEMU_BINARY): Promise<QemuVersion> {
  let v = versions.get(binary);
  if (!v) {
    v = readVersion(binary);
    versions.set(binary, v);
    v.catch(() => versions.delete(binary));
  }
  return v;
}

async function readVersion(binary: string): Promise<QemuVersion> {
  const { stdout } = await promisify(execFile)(findExecutable(binary), ['--version']);
  const text = stdout.split('\n')[0]!.trim();
  const m = /version (\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!m) throw new Error(`cannot parse the version of ${binary} from "${text}"`);
  return { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3]), text };
}

let accel: Accel | undefined;

/** `kvm` when /dev/kvm can be opened read-write, else `tcg` (emulation). Cached. */
export function detectAccel(): Accel {
  if (!accel) {
    try {
      closeSync(openSync('/dev/kvm', 'r+'));
      accel = 'kvm';
    } catch {
      accel = 'tcg';
    }
  }
  return accel;
}
