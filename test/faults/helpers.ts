/** Shared by the fault tests. */
import { readdirSync, readFileSync } from 'node:fs';

/** Processes still running whose command line names `dir` (a QEMU started from a test's cache: its kernel lives there). A killed one's reads empty. */
export function processesUsing(dir: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
    } catch {
      return false;
    }
  });
}
