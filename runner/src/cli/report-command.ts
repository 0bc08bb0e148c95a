/** `provium report merge FILES...`: the shards' event streams as one report (and one JUnit file). */
import { mergeStreams } from '../report/merge.js';
import { readEventStream } from '../report/event-file.js';
import { DefaultReporter } from '../reporters/default.js';
import type { Reporter } from '../reporters/reporter.js';
import { checkReporterOptions, type ReporterOptions } from './options.js';

export interface MergeOptions extends ReporterOptions {
  verbose?: boolean;
  quiet?: boolean;
}

export async function reportMergeCommand(files: string[], o: MergeOptions, out: NodeJS.WritableStream & { isTTY?: boolean }): Promise<number> {
  checkReporterOptions(o);
  const merged = mergeStreams(files.map(readEventStream));
  const reporters: Reporter[] = [new DefaultReporter({ out, verbose: !!o.verbose, quiet: !!o.quiet, progress: false, color: !!out.isTTY && !process.env.NO_COLOR })];
  if (o.reporter === 'junit') reporters.push(new (await import('../reporters/junit.js')).JunitReporter(o.output!));
  reporters.forEach((r) => r.onRunStart?.(merged.files));
  for (const e of merged.events) reporters.forEach((r) => r.onEvent(e));
  for (const n of merged.notes) out.write(`note: ${n}\n`);
  reporters.forEach((r) => r.onEvent(merged.summary));
  for (const r of reporters) await r.close?.();
  return merged.summary.exit_code;
}
