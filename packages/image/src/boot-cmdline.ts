/**
 * Per-boot additions to a profile's kernel command line that the default
 * guest's /init understands: `provium.hostname=NAME` and
 * `provium.file=PATH_B64,MODE,CONTENT_B64` (written before the agent starts).
 */

/** x86 COMMAND_LINE_SIZE, including the terminating NUL. */
export const KERNEL_CMDLINE_MAX = 2048;

export interface BootFile {
  /** Absolute guest path. */
  path: string;
  content: string | Uint8Array;
  /** Permission bits; default 0o644. */
  mode?: number;
}

export interface BootCmdlineOptions {
  hostname?: string;
  files?: readonly BootFile[];
  /** Appended verbatim (the `kernel_cmdline` boot option). */
  extra?: string;
}

const HOSTNAME_RE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** `base` plus the per-boot words; throws when the result does not fit the kernel's limit. */
export function bootCmdline(base: string, options: BootCmdlineOptions = {}): string {
  const words = [base.trim()];
  if (options.hostname !== undefined) {
    if (!HOSTNAME_RE.test(options.hostname)) {
      throw new Error(`invalid guest hostname "${options.hostname}": use 1-63 letters, digits and "-", not starting or ending with "-"`);
    }
    words.push(`provium.hostname=${options.hostname}`);
  }
  for (const file of options.files ?? []) {
    if (!file.path.startsWith('/') || file.path.includes('\0')) throw new Error(`boot file path "${file.path}" must be an absolute guest path`);
    const mode = file.mode ?? 0o644;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`boot file ${file.path}: invalid mode ${mode}; expected permission bits such as 0o644 (420)`);
    const content = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : Buffer.from(file.content);
    words.push(`provium.file=${Buffer.from(file.path, 'utf8').toString('base64')},${mode.toString(8)},${content.toString('base64')}`);
  }
  if (options.extra?.trim()) words.push(options.extra.trim());
  const cmdline = words.filter(Boolean).join(' ');
  const length = Buffer.byteLength(cmdline);
  if (length >= KERNEL_CMDLINE_MAX) {
    throw new Error(
      `kernel command line is ${length} bytes, the limit is ${KERNEL_CMDLINE_MAX - 1}; boot files travel base64-encoded on it, ` +
        'so write large files with vm:write_file() after boot instead',
    );
  }
  return cmdline;
}
