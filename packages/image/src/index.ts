export { BUILTIN_PROFILE, BUILTIN_PROFILES, PROFILE_KEYS, ProfileConfigError, parseProfiles } from './profiles/config.js';
export type { ProfileSpec, ProjectConfigSource } from './profiles/config.js';
export { USER_PROFILE_CMDLINE, resolveProfile } from './profiles/resolve.js';
export type { ResolveOptions, ResolvedProfile } from './profiles/resolve.js';
export {
  DEFAULT_CMDLINE,
  DEFAULT_CPUS,
  DEFAULT_MEMORY,
  collectDefaultImageInputs,
  defaultImageDirName,
  defaultImageKey,
  prepareDefaultImage,
} from './default-image.js';
export type { DefaultImage, DefaultImageInputs, ImageOptions } from './default-image.js';
export {
  DEBIAN_CMDLINE,
  DEBIAN_CPUS,
  DEBIAN_INITRAMFS_MODULES,
  DEBIAN_MEMORY,
  DEBIAN_PACKAGES,
  DEBIAN_RELEASE,
  collectDebianImageInputs,
  debianImageDirName,
  debianImageKey,
  prepareDebianImage,
} from './debian-image.js';
export type { DebianImage, DebianImageInputs } from './debian-image.js';
export { debianBuildSupport } from './mmdebstrap.js';
export type { DebianBuildSupport, MmdebstrapMode } from './mmdebstrap.js';
export { INJECT_RDINIT, injectAgent, redirectInit } from './inject-agent.js';
export type { InjectedInitrd } from './inject-agent.js';
export { KERNEL_CMDLINE_MAX, bootCmdline } from './boot-cmdline.js';
export type { BootCmdlineOptions, BootFile } from './boot-cmdline.js';
export { doctor } from './doctor.js';
export type { DoctorCheck } from './doctor.js';
export { imageCacheDir, proviumCacheRoot } from './cache-dir.js';
export { GUEST_MODULES } from './kernel-modules.js';
export type { DebianImageManifest, DefaultImageManifest, ImageManifest, InjectedInitrdManifest } from './manifest.js';
export { cpioNewc } from './cpio.js';
export type { CpioEntry } from './cpio.js';
