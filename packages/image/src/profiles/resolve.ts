/**
 * A profile name → everything needed to boot it: kernel and initrd paths,
 * kernel command line, memory and CPUs, and an identity that changes whenever
 * any of them does (fixture cache keys cover it).
 */
import { open, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { PreparedProfile } from '@provium/types';
import { DEBIAN_CPUS, DEBIAN_MEMORY, DEBIAN_TCG_CMDLINE, prepareDebianImage } from '../debian-image.js';
import { DEFAULT_CPUS, DEFAULT_MEMORY, type ImageOptions, prepareDefaultImage } from '../default-image.js';
import { sha256, sha256File } from '../hash.js';
import { injectAgent } from '../inject-agent.js';
import type { ImageManifest } from '../manifest.js';
import { profileBuildDir, runProfileBuild } from './build-command.js';
import { rootDisk } from './root-disk.js';
import { BUILTIN_PROFILE, BUILTIN_PROFILES, type ProfileSpec, type ProjectConfigSource, parseProfiles } from './config.js';

/** Default kernel command line of a user profile without `cmdline`/`cmdline_file` (the words of DEFAULT_CMDLINE's comment). */
export const USER_PROFILE_CMDLINE = 'console=ttyS0 panic=-1 no_timer_check';

/** What a VM boots (PreparedProfile, shared with the runner's workers) plus where it came from. */
export interface ResolvedProfile extends PreparedProfile {
  /** Built images (default, debian, inject_agent) carry their manifest. */
  manifest?: ImageManifest;
  /** "built-in" or the provium.toml defining it. */
  source: string;
}

function identityOf(kernelSha: string, initrdSha: string, cmdline: string, diskSha?: string, tcgCmdline?: string): string {
  const parts = diskSha === undefined ? [kernelSha, initrdSha, cmdline] : [kernelSha, initrdSha, cmdline, diskSha];
  return sha256(JSON.stringify(tcgCmdline === undefined ? parts : [...parts, { tcg: tcgCmdline }]));
}

/** Whether the file starts as an x86 bzImage (the boot protocol's "HdrS" at 0x202), which SeaBIOS boots through linuxboot. */
async function isBzImage(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4), 0, 4, 0x202);
    return bytesRead === 4 && buffer.toString('latin1') === 'HdrS';
  } finally {
    await file.close();
  }
}

export interface ResolveOptions extends ImageOptions {
  /** Do not run a profile's `build` command (`provium test --no-build`): its last outputs in `{out}` are used as they are. */
  skipBuild?: boolean;
}

/**
 * Resolves `name`: a built-in image (`"default"`, `"debian"`: built on first
 * use) or a `[profiles.NAME]` of `config`. Runs the profile's `build` command
 * (once per process) and adds the agent (`inject_agent`) as needed. The
 * result is plain data: resolve once per run and pass it on.
 */
export async function resolveProfile(name: string, config?: ProjectConfigSource, options: ResolveOptions = {}): Promise<ResolvedProfile> {
  if (name === 'debian') {
    const image = await prepareDebianImage(options);
    const { outputs } = image.manifest;
    return {
      name,
      kernel: image.kernel,
      bzImage: join(image.dir, outputs.bzImage.file),
      initrd: image.initrd,
      // The guest's /init mounts it as /dev/vda (the first virtio-blk disk).
      disk: { path: image.disk, format: 'qcow2', sha256: outputs.disk.sha256 },
      cmdline: image.cmdline,
      tcgCmdline: DEBIAN_TCG_CMDLINE,
      memory: DEBIAN_MEMORY,
      cpus: DEBIAN_CPUS,
      identity: identityOf(outputs.kernel.sha256, outputs.initrd.sha256, image.cmdline, outputs.disk.sha256, DEBIAN_TCG_CMDLINE),
      manifest: image.manifest,
      source: 'built-in',
    };
  }
  if (name === BUILTIN_PROFILE) {
    const image = await prepareDefaultImage(options);
    const { outputs } = image.manifest;
    return {
      name,
      kernel: image.kernel,
      bzImage: join(image.dir, outputs.bzImage.file),
      initrd: image.initrd,
      cmdline: image.cmdline,
      memory: DEFAULT_MEMORY,
      cpus: DEFAULT_CPUS,
      identity: identityOf(outputs.kernel.sha256, outputs.initrd.sha256, image.cmdline),
      manifest: image.manifest,
      source: 'built-in',
    };
  }
  const profiles = config ? parseProfiles(config) : new Map<string, ProfileSpec>();
  const spec = profiles.get(name);
  if (!spec) {
    const known = [...BUILTIN_PROFILES, ...profiles.keys()].map((n) => `"${n}"`).join(', ');
    const where = config ? `in ${config.file}` : '(no provium.toml was loaded)';
    throw new Error(`unknown profile "${name}" ${where}; known profiles: ${known}. Define it as [profiles.${name}] in provium.toml`);
  }
  return resolveUserProfile(spec, options);
}

async function resolveUserProfile(spec: ProfileSpec, options: ResolveOptions): Promise<ResolvedProfile> {
  const at = `${spec.file}: [profiles.${spec.name}]`;
  const built = spec.build === undefined ? undefined : { ...spec, build: spec.build };
  const out = built && (options.skipBuild ? profileBuildDir(built) : await runProfileBuild(built, options.onProgress ?? (() => {})));
  const after = options.skipBuild ? ` (its build command was skipped by --no-build: run without --no-build, or provium prepare ${spec.name} first)` : ' (after running the build command)';
  const locate = async (key: string, path: string): Promise<string> => {
    const full = out !== undefined && !isAbsolute(path) ? join(out, path) : path;
    let isFile = false;
    try {
      isFile = (await stat(full)).isFile();
    } catch {
      // reported below
    }
    if (!isFile) throw new Error(`${at}: ${key} ${full} does not exist or is not a file${out !== undefined ? after : ''}`);
    return full;
  };
  const kernel = await locate('kernel', spec.kernel);
  let initrd = await locate('initrd', spec.initrd);
  let cmdline = spec.cmdline ?? USER_PROFILE_CMDLINE;
  if (spec.cmdlineFile !== undefined) cmdline = (await readFile(await locate('cmdline_file', spec.cmdlineFile), 'utf8')).split(/\s+/).filter(Boolean).join(' ');

  let manifest: ImageManifest | undefined;
  let initrdSha: string;
  if (spec.injectAgent) {
    const injected = await injectAgent(initrd, cmdline, options);
    ({ initrd, cmdline, manifest } = injected);
    initrdSha = injected.manifest.outputs.initrd.sha256;
  } else {
    initrdSha = await sha256File(initrd);
  }
  const disk = spec.disk === undefined ? undefined : await rootDisk(await locate('disk', spec.disk), at, options);
  return {
    name: spec.name,
    kernel,
    ...((await isBzImage(kernel)) ? { bzImage: kernel } : {}),
    initrd,
    cmdline,
    memory: spec.memory ?? DEFAULT_MEMORY,
    cpus: spec.cpus ?? DEFAULT_CPUS,
    ...(disk ? { disk } : {}),
    identity: identityOf(await sha256File(kernel), initrdSha, cmdline, disk?.sha256),
    manifest,
    source: spec.file,
  };
}
