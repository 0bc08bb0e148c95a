/** `provium prepare` and `provium doctor`: the guest images and the host they run on. */
import { BUILTIN_PROFILES, ProfileConfigError, doctor, resolveProfile } from '@provium/image';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';

export const profileSource = (config: ResolvedConfig) => (config.file ? { file: config.file, toml: config.toml } : undefined);

export async function prepareCommand(profile: string, o: { config?: string; rebuild?: boolean }, out: NodeJS.WritableStream): Promise<number> {
  const config = loadConfig(process.cwd(), o.config);
  if (o.rebuild && !BUILTIN_PROFILES.includes(profile)) throw new UsageError(`--rebuild applies to the built-in profiles (${BUILTIN_PROFILES.join(', ')}); "${profile}" is not one`);
  const progress = (m: string) => out.write(`${m}\n`);
  try {
    const p = await resolveProfile(profile, profileSource(config), { cacheDir: config.cacheDir, onProgress: progress, rebuild: o.rebuild });
    out.write(`profile ${p.name}: kernel ${p.kernel}\n${p.bzImage && p.bzImage !== p.kernel ? `  bzImage ${p.bzImage} (kernel_format = "bzimage")\n` : ''}  initrd ${p.initrd}\n${p.disk ? `  disk ${p.disk.path} (${p.disk.format})\n` : ''}  cmdline ${p.cmdline}\n${p.tcgCmdline ? `  and under TCG: ${p.tcgCmdline}\n` : ''}  identity ${p.identity}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ProfileConfigError) throw new UsageError(e.message);
    throw e;
  }
}

export async function doctorCommand(o: { config?: string }, out: NodeJS.WritableStream): Promise<number> {
  const config = loadConfig(process.cwd(), o.config);
  const checks = await doctor({ cacheDir: config.cacheDir });
  for (const c of checks) {
    out.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);
    if (c.fix) out.write(`     ${c.ok ? 'hint' : 'fix'}: ${c.fix}\n`);
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}
