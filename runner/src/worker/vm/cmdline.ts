/**
 * A VM's kernel command line (D24): the profile's line, or `kernel_cmdline`
 * in its place; then `kernel_cmdline_append`; then, under TCG, the profile's
 * `tcgCmdline` (the debian guest's `norandmaps`); then the words Provium itself
 * needs, always last so that they win: the serial console (console logs,
 * `vm:console()`, death reports), `panic=-1` (a panic ends QEMU instead of
 * hanging), `no_timer_check` (no boot panic for a timer check that a
 * loaded TCG host fails: @provium/image's DEFAULT_CMDLINE), the agent
 * wrapper's `rdinit=` of a profile with `inject_agent` (@provium/image's
 * INJECT_RDINIT), and the guest's hostname.
 */
const REQUIRED = ['console=ttyS0', 'panic=-1', 'no_timer_check'];
const INJECTED_INIT = 'rdinit=/provium/init';

const wordsOf = (line: string | undefined): string[] => (line ?? '').split(/\s+/).filter(Boolean);

export function kernelCmdline(profileLine: string, hostname: string, opts: { kernel_cmdline?: string; kernel_cmdline_append?: string }, tcgWords?: string): string {
  const profileWords = wordsOf(profileLine);
  const base = opts.kernel_cmdline === undefined ? profileWords.filter((w) => w !== INJECTED_INIT) : wordsOf(opts.kernel_cmdline);
  const required = [...(opts.kernel_cmdline === undefined ? [] : REQUIRED), ...(profileWords.includes(INJECTED_INIT) ? [INJECTED_INIT] : []), `provium.hostname=${hostname}`];
  return [...base, ...wordsOf(opts.kernel_cmdline_append), ...wordsOf(tcgWords), ...required].join(' ');
}
