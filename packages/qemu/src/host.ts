import { accessSync, closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
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

/** What the accelerator choice rests on, read off the host by `hostAccelFacts()`. */
export interface AccelFacts {
  /** `PROVIUM_ACCEL`, when set. */
  override?: string;
  /** Opening /dev/kvm read-write: 'ok' or the errno code (ENOENT, EACCES, ...). */
  kvmDevice: string;
  /** The CPU flags (/proc/cpuinfo) include vmx or svm. */
  hardwareVirt: boolean;
  /** The kvm_pvm module is loaded (/sys/module/kvm_pvm). */
  pvm: boolean;
}

export interface AccelChoice {
  accel: Accel;
  /** Why, in words, for `provium doctor`: "KVM (...)" or what rules KVM out. */
  reason: string;
}

/**
 * KVM when /dev/kvm opens read-write and the CPU has hardware virtualization,
 * else TCG; `PROVIUM_ACCEL=kvm|tcg` decides instead. A /dev/kvm without vmx/svm
 * is a paravirtual KVM such as PVM (kvm_pvm, seen on nested cloud machines): it
 * runs only guest kernels built for it, and Debian's kernel hangs in early boot
 * there, so it counts as no KVM.
 */
export function chooseAccel(facts: AccelFacts): AccelChoice {
  if (facts.override !== undefined) {
    if (facts.override !== 'kvm' && facts.override !== 'tcg') {
      throw new Error(`PROVIUM_ACCEL must be "kvm" or "tcg", got ${JSON.stringify(facts.override)}: unset it to let Provium choose`);
    }
    return { accel: facts.override, reason: `PROVIUM_ACCEL=${facts.override}` };
  }
  if (facts.kvmDevice === 'ENOENT') return { accel: 'tcg', reason: 'no /dev/kvm' };
  if (facts.kvmDevice !== 'ok') return { accel: 'tcg', reason: `/dev/kvm is not readable and writable by this user (${facts.kvmDevice})` };
  if (!facts.hardwareVirt) {
    const what = facts.pvm ? 'a paravirtual KVM (kvm_pvm), which boots only guest kernels built for PVM' : 'not hardware KVM';
    return { accel: 'tcg', reason: `/dev/kvm is there but the CPU has no vmx/svm: it is ${what}` };
  }
  return { accel: 'kvm', reason: 'hardware KVM (/dev/kvm, vmx/svm)' };
}

/** Reads the facts chooseAccel() needs off this host. */
export function hostAccelFacts(): AccelFacts {
  let kvmDevice = 'ok';
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
  } catch (error) {
    kvmDevice = (error as NodeJS.ErrnoException).code ?? String(error);
  }
  let flags = '';
  try {
    flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    // no /proc: no hardware virtualization can be shown
  }
  const override = process.env.PROVIUM_ACCEL;
  return {
    ...(override !== undefined && override !== '' ? { override } : {}),
    kvmDevice,
    hardwareVirt: /\b(vmx|svm)\b/.test(flags),
    pvm: existsSync('/sys/module/kvm_pvm'),
  };
}

let accel: Accel | undefined;

/** This host's accelerator: chooseAccel of hostAccelFacts. Cached. */
export function detectAccel(): Accel {
  accel ??= chooseAccel(hostAccelFacts()).accel;
  return accel;
}
