/**
 * Host checks for `provium doctor`: what is present, what is missing and the
 * command that installs it. Structured results; the CLI prints them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { agentBinaryPath } from '@provium/agent';
import { type AccelChoice, chooseAccel, hostAccelFacts } from '@provium/qemu';
import { imageCacheDir } from './cache-dir.js';
import { type ImageOptions, collectDefaultImageInputs, defaultImageDirName, defaultImageKey } from './default-image.js';
import { loadExeca } from './load-execa.js';

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
  const execa = await loadExeca();
  const result = await execa(command, args, { reject: false, all: true });
  if (result.failed) return { name, ok: false, detail: result.code === 'ENOENT' ? `${command} not found` : `${command} ${args.join(' ')} failed: ${(result.all ?? '').trim()}`, fix };
  const version = pattern.exec(result.all ?? '')?.[1];
  return { name, ok: true, detail: version ? `${command} ${version}` : command };
}

function acceleratorCheck(): DoctorCheck {
  const name = 'accelerator';
  const facts = hostAccelFacts();
  let choice: AccelChoice;
  try {
    choice = chooseAccel(facts);
  } catch (error) {
    return { name, ok: false, detail: (error as Error).message, fix: 'set PROVIUM_ACCEL to kvm or tcg, or unset it' };
  }
  if (choice.accel === 'kvm') return { name, ok: true, detail: `KVM (${choice.reason})` };
  const detail = `TCG (${choice.reason}): guests are emulated, several times slower`;
  if (facts.override !== undefined) return { name, ok: true, detail }; // the user's choice: nothing to hint
  return { name, ok: true, detail, fix: 'enable hardware virtualization (nested virtualization on a cloud machine) and add the user to the kvm group, or raise --timeout-scale' };
}

async function defaultImageCheck(options: Pick<ImageOptions, 'cacheDir' | 'agentBinary'>): Promise<DoctorCheck> {
  const name = 'default image';
  const prepare = 'run `provium prepare` (otherwise the first test run builds it)';
  // Doctor builds nothing: it looks for the image of the agent binary as it is now.
  const agentBinary = options.agentBinary ?? agentBinaryPath();
  if (!existsSync(agentBinary)) return { name, ok: false, detail: `not built yet (nor is the agent, ${agentBinary})`, fix: prepare };
  try {
    const inputs = await collectDefaultImageInputs({ ...options, agentBinary });
    const dir = join(imageCacheDir(options.cacheDir), defaultImageDirName(defaultImageKey(inputs)));
    const kernel = `kernel ${inputs.kernel.name} ${inputs.kernel.version}`;
    if (existsSync(dir)) return { name, ok: true, detail: `built: ${dir} (${kernel})` };
    return { name, ok: false, detail: `not built yet for ${kernel}`, fix: prepare };
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
