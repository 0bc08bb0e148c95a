/**
 * Host checks for `provium doctor`: what is present, what is missing and the
 * command that installs it. Structured results; the CLI prints them.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { imageCacheDir } from './cache-dir.js';
import { type ImageOptions, collectDefaultImageInputs, defaultImageDirName, defaultImageKey } from './default-image.js';

export interface DoctorCheck {
  /** Short name: "qemu", "zstd", "setpriv", "default image", "accelerator". */
  name: string;
  ok: boolean;
  /** What was found: a version, a path, "KVM"/"TCG", or what is wrong. */
  detail: string;
  /** What to do when not ok (or to do better). */
  fix?: string;
}

async function toolVersion(name: string, command: string, args: string[], pattern: RegExp, fix: string): Promise<DoctorCheck> {
  const result = await execa(command, args, { reject: false, all: true });
  if (result.failed) return { name, ok: false, detail: result.code === 'ENOENT' ? `${command} not found` : `${command} ${args.join(' ')} failed: ${(result.all ?? '').trim()}`, fix };
  const version = pattern.exec(result.all ?? '')?.[1];
  return { name, ok: true, detail: version ? `${command} ${version}` : command };
}

async function acceleratorCheck(): Promise<DoctorCheck> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    return { name: 'accelerator', ok: true, detail: 'KVM' };
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no /dev/kvm' : '/dev/kvm is not readable and writable by this user';
    return {
      name: 'accelerator',
      ok: true,
      detail: `TCG (${why}): guests are emulated, several times slower`,
      fix: 'enable hardware virtualization (and add the user to the kvm group), or raise --timeout-scale',
    };
  }
}

async function defaultImageCheck(options: Pick<ImageOptions, 'cacheDir' | 'agentBinary'>): Promise<DoctorCheck> {
  const name = 'default image';
  try {
    const inputs = await collectDefaultImageInputs(options);
    const dir = join(imageCacheDir(options.cacheDir), defaultImageDirName(defaultImageKey(inputs)));
    try {
      await stat(dir);
      return { name, ok: true, detail: `built: ${dir} (kernel ${inputs.kernel.name} ${inputs.kernel.version})` };
    } catch {
      return { name, ok: false, detail: `not built yet for kernel ${inputs.kernel.name} ${inputs.kernel.version}`, fix: 'run `provium prepare` (otherwise the first test run builds it)' };
    }
  } catch (error) {
    return { name, ok: false, detail: `cannot be built: ${(error as Error).message}`, fix: 'run scripts/setup.sh' };
  }
}

/** Runs every check; none throws. */
export async function doctor(options: Pick<ImageOptions, 'cacheDir' | 'agentBinary'> = {}): Promise<DoctorCheck[]> {
  return Promise.all([
    toolVersion('qemu', 'qemu-system-x86_64', ['--version'], /version (\S+)/, 'apt-get install qemu-system-x86'),
    toolVersion('zstd', 'zstd', ['--version'], /v(\d+\.\d+\.\d+)/, 'apt-get install zstd'),
    toolVersion('setpriv', 'setpriv', ['--version'], /util-linux (\S+)/, 'apt-get install util-linux'),
    defaultImageCheck(options),
    acceleratorCheck(),
  ]);
}
