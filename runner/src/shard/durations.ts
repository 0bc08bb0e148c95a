/**
 * `--durations FILE`: the recorded times of an earlier run, to balance the
 * shards. FILE is what `--save-durations` writes, or an event stream
 * (`--json`, `--save-events`), whose file_completed and fixture_build_done
 * events carry the same times. Several files add up, a later one winning.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { parseEventStream } from '../report/event-file.js';
import { projectPath } from './project-path.js';

export interface Durations {
  /** Test file (relative to the project root) → ms. */
  files: Map<string, number>;
  /** Fixture name → ms its build took. */
  fixtures: Map<string, number>;
}

/** The `provium_durations` value of the files --save-durations writes. */
export const DURATIONS_FORMAT = 1;

export interface DurationsContext {
  /** The working directory: an event stream names files relative to it (the one it was written in). */
  cwd: string;
  baseDir: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readDurations(files: readonly string[], ctx: DurationsContext): Durations {
  const out: Durations = { files: new Map(), fixtures: new Map() };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(path.resolve(ctx.cwd, file), 'utf8');
    } catch (e) {
      // Not a warning: a shard that lacked the file would split the files otherwise than the others.
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      throw new UsageError(`--durations ${file}: ${why}; give a file that --save-durations, --json or --save-events wrote (every shard must read the same one), or leave --durations out`);
    }
    if (text.trim() === '') throw new UsageError(`--durations ${file}: the file is empty; give a file that --save-durations, --json or --save-events wrote`);
    let whole: unknown;
    try {
      whole = JSON.parse(text);
    } catch {
      // not one JSON document: an event stream of several lines, or nothing usable
    }
    if (isRecord(whole) && 'provium_durations' in whole) readSaved(file, whole, out);
    else readEvents(file, text, ctx, out);
  }
  return out;
}

function readSaved(file: string, doc: Record<string, unknown>, out: Durations): void {
  if (doc.provium_durations !== DURATIONS_FORMAT) {
    throw new UsageError(`--durations ${file}: "provium_durations" is ${JSON.stringify(doc.provium_durations)}; this provium reads format ${DURATIONS_FORMAT} (write the file again with --save-durations)`);
  }
  for (const section of ['files', 'fixtures'] as const) {
    const table = doc[section] ?? {};
    if (!isRecord(table)) throw new UsageError(`--durations ${file}: "${section}" should be an object of name → milliseconds`);
    for (const [name, ms] of Object.entries(table)) {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new UsageError(`--durations ${file}: ${section} "${name}": expected milliseconds (a number, 0 or more), got ${JSON.stringify(ms)}`);
      out[section].set(name, ms);
    }
  }
}

function readEvents(file: string, text: string, ctx: DurationsContext, out: Durations): void {
  let events;
  try {
    events = parseEventStream(file, text).events;
  } catch (e) {
    throw new UsageError(`--durations ${file}: neither a durations file (as --save-durations writes) nor an event stream (as --json and --save-events write): ${(e as Error).message}`);
  }
  for (const e of events) {
    // A cancelled file stopped early: its time says nothing of how long it takes.
    if (e.event === 'file_completed' && e.status !== 'cancelled') out.files.set(projectPath(ctx.baseDir, path.resolve(ctx.cwd, e.file)), e.duration_ms);
    else if (e.event === 'fixture_build_done' && e.ok) out.fixtures.set(e.fixture, e.duration_ms);
  }
}
