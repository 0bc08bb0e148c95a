/**
 * The reporters of one `provium test` run, as the options ask: the human
 * report or `--json` lines, `--events-stdout`, JUnit, `--save-events`,
 * `--save-durations`, `--events-socket`, `--coverage`, and the state
 * `--rerun-failed` reads.
 */
import path from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { Discovery } from '../list/discover.js';
import { CoverageReporter } from '../reporters/coverage.js';
import { DefaultReporter } from '../reporters/default.js';
import { EventFileReporter } from '../reporters/event-file.js';
import { JsonReporter } from '../reporters/json.js';
import type { Reporter } from '../reporters/reporter.js';
import type { EventsSocket } from './events-socket.js';
import { RerunStateRecorder, rerunStatePath } from './rerun-state.js';

export interface ReportingOptions {
  json?: boolean;
  eventsStdout?: boolean;
  reporter: string;
  output?: string;
  verbose?: boolean;
  quiet?: boolean;
  /** false with --no-progress. */
  progress: boolean;
  saveEvents?: string;
  saveDurations?: string;
  coverage?: boolean;
}

export async function testReporters(o: ReportingOptions, ctx: { cwd: string; config: ResolvedConfig; found: Discovery; socket?: EventsSocket; warn: (m: string) => void }): Promise<Reporter[]> {
  const reporters: Reporter[] = [];
  // --json and --events-stdout put the event lines on stdout; what is for people then goes to stderr.
  const events = o.json || o.eventsStdout;
  if (events) reporters.push(new JsonReporter(process.stdout));
  const human = o.eventsStdout ? process.stderr : process.stdout;
  if (!o.json) reporters.push(new DefaultReporter({ out: human, verbose: !!o.verbose, quiet: !!o.quiet, progress: o.progress, color: !!human.isTTY && !process.env.NO_COLOR }));
  if (o.reporter === 'junit') reporters.push(new (await import('../reporters/junit.js')).JunitReporter(o.output!));
  if (o.saveEvents) {
    try {
      reporters.push(new EventFileReporter(o.saveEvents));
    } catch (e) {
      throw new UsageError(`--save-events ${o.saveEvents}: cannot write it: ${(e as Error).message}`);
    }
  }
  if (o.saveDurations) {
    const { DurationsRecorder } = await import('../shard/durations-recorder.js');
    const { projectPath } = await import('../shard/project-path.js');
    reporters.push(new DurationsRecorder(o.saveDurations, (file) => projectPath(ctx.config.baseDir, path.resolve(ctx.cwd, file))));
  }
  if (ctx.socket) reporters.push(ctx.socket.reporter());
  const byDisplay = new Map(ctx.found.tests.map((t) => [t.display, t.path]));
  reporters.push(new RerunStateRecorder(rerunStatePath(), (file) => byDisplay.get(file) ?? path.resolve(ctx.cwd, file), ctx.warn));
  // Last: it prints after the summary.
  if (o.coverage) reporters.push(new CoverageReporter(events ? process.stderr : process.stdout));
  return reporters;
}
