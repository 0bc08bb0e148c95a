export { BUILTIN_PROFILE, PROFILE_KEYS, ProfileConfigError, parseProfiles } from './profiles/config.js';
export type { ProfileSpec, ProjectConfigSource } from './profiles/config.js';
export { USER_PROFILE_CMDLINE, resolveProfile } from './profiles/resolve.js';
export type { ResolvedProfile } from './profiles/resolve.js';
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
export { INJECT_RDINIT, injectAgent, redirectInit } from './inject-agent.js';
export type { InjectedInitrd } from './inject-agent.js';
export { KERNEL_CMDLINE_MAX, bootCmdline } from './boot-cmdline.js';
export type { BootCmdlineOptions, BootFile } from './boot-cmdline.js';
export { doctor } from './doctor.js';
export type { DoctorCheck } from './doctor.js';
export { imageCacheDir, proviumCacheRoot } from './cache-dir.js';
export { GUEST_MODULES } from './kernel-modules.js';
export type { DefaultImageManifest, ImageManifest, InjectedInitrdManifest } from './manifest.js';
export { cpioNewc } from './cpio.js';
export type { CpioEntry } from './cpio.js';
