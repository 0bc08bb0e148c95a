/**
 * The `[profiles.NAME]` tables of provium.toml, validated. The runner parses
 * the TOML; this module checks keys and types and resolves paths against the
 * file's directory. Every error names the file, the profile and the key.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { BUILTIN_PROFILES as TYPES_BUILTIN_PROFILES, SIZE_HELP, parseSizeText } from '@provium/types';

/** provium.toml as the runner parsed it. */
export interface ProjectConfigSource {
  /** Path of provium.toml; relative paths in profiles are resolved against its directory. */
  file: string;
  /** The parsed document; only its `profiles` table is read here. */
  toml: Record<string, unknown>;
}

export interface ProfileSpec {
  name: string;
  /** provium.toml that defines it. */
  file: string;
  /**
   * Shell command run once before any VM boots, `{out}` replaced by an output
   * directory; `kernel`, `initrd` and `cmdlineFile` are then relative to `{out}`.
   */
  build?: string;
  /** Absolute; or, when `build` is set, possibly relative to its `{out}`. */
  kernel: string;
  initrd: string;
  cmdline?: string;
  cmdlineFile?: string;
  memory?: number;
  cpus?: number;
  injectAgent: boolean;
  /** Root disk image (raw or qcow2): absolute, or relative to `{out}` with `build`. */
  disk?: string;
}

export const PROFILE_KEYS = ['kernel', 'initrd', 'cmdline', 'cmdline_file', 'memory', 'cpus', 'inject_agent', 'build', 'disk'] as const;
export const BUILTIN_PROFILE = 'default';
/** Profiles Provium builds itself: `default` (busybox in an initramfs) and `debian` (Debian 12 with systemd on a disk). */
export const BUILTIN_PROFILES: readonly string[] = TYPES_BUILTIN_PROFILES;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export class ProfileConfigError extends Error {
  override name = 'ProfileConfigError';
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a table';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Every profile of the file, validated, by name. A file without `[profiles]` has none. */
export function parseProfiles(source: ProjectConfigSource): Map<string, ProfileSpec> {
  const profiles = new Map<string, ProfileSpec>();
  const table = source.toml.profiles;
  if (table === undefined) return profiles;
  if (!isTable(table)) throw new ProfileConfigError(`${source.file}: "profiles" must be a table of [profiles.NAME] sections, got ${describe(table)}`);
  for (const [name, value] of Object.entries(table)) profiles.set(name, parseProfile(source.file, name, value));
  return profiles;
}

function parseProfile(file: string, name: string, value: unknown): ProfileSpec {
  const at = `${file}: [profiles.${name}]`;
  if (BUILTIN_PROFILES.includes(name)) throw new ProfileConfigError(`${at}: "${name}" is a built-in profile and cannot be redefined; choose another name`);
  if (!NAME_RE.test(name)) throw new ProfileConfigError(`${at}: invalid profile name; use letters, digits, "-" and "_", starting with a letter or digit`);
  if (!isTable(value)) throw new ProfileConfigError(`${at}: must be a table, got ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (!(PROFILE_KEYS as readonly string[]).includes(key)) throw new ProfileConfigError(`${at}: unknown key "${key}" (known keys: ${PROFILE_KEYS.join(', ')})`);
  }
  const str = (key: string): string | undefined => {
    const v = value[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new ProfileConfigError(`${at}: ${key} must be a non-empty string, got ${describe(v)}`);
    return v;
  };

  const build = str('build');
  if (build !== undefined && !build.includes('{out}')) throw new ProfileConfigError(`${at}: build must mention {out}, the directory it writes the kernel and initrd to`);
  const base = dirname(resolve(file));
  // With `build`, relative paths point into {out}, known only once the build has run.
  const path = (key: string): string | undefined => {
    const p = str(key);
    return p === undefined || isAbsolute(p) || build !== undefined ? p : resolve(base, p);
  };
  const kernel = path('kernel');
  const initrd = path('initrd');
  if (kernel === undefined) throw new ProfileConfigError(`${at}: kernel is required (path of a bzImage/vmlinuz${build ? ' relative to {out}' : ''})`);
  if (initrd === undefined) throw new ProfileConfigError(`${at}: initrd is required (path of an initramfs${build ? ' relative to {out}' : ''})`);

  const cmdline = str('cmdline');
  const cmdlineFile = path('cmdline_file');
  if (cmdline !== undefined && cmdlineFile !== undefined) throw new ProfileConfigError(`${at}: set either cmdline or cmdline_file, not both`);

  let memory: number | undefined;
  if (value.memory !== undefined) {
    const m = value.memory;
    memory = typeof m === 'number' ? m : typeof m === 'string' ? parseSizeText(m) : undefined;
    if (memory === undefined || !Number.isInteger(memory) || memory < 16 * 1024 * 1024) {
      throw new ProfileConfigError(`${at}: memory must be a size of at least 16M (${SIZE_HELP}), got ${describe(m)}`);
    }
  }
  let cpus: number | undefined;
  if (value.cpus !== undefined) {
    const c = value.cpus;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > 255) throw new ProfileConfigError(`${at}: cpus must be an integer from 1 to 255, got ${describe(c)}`);
    cpus = c;
  }
  const inject = value.inject_agent;
  if (inject !== undefined && typeof inject !== 'boolean') throw new ProfileConfigError(`${at}: inject_agent must be true or false, got ${describe(inject)}`);

  const disk = path('disk');
  return { name, file, build, kernel, initrd, cmdline, cmdlineFile, memory, cpus, injectAgent: inject ?? false, ...(disk !== undefined ? { disk } : {}) };
}
