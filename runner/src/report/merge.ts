/**
 * `provium report merge`: the event streams of a suite's shards as one run.
 * Each shard's events are replayed in the order the files are given; the
 * counts are added up again file by file (the rule of `provium test`).
 * A shard whose stream ends without run_completed (killed, cut short), one
 * interrupted with Ctrl-C, and a shard of K/N with no file given all make
 * the merged run fail, with a note saying which and why; a file still
 * running in a cut-off stream is reported as an error of its own.
 */
import type { FileCompleted, RunCompleted, RunEvent, RunStarted } from '@provium/types';
import { UsageError } from '../errors.js';
import { addFile, noTotals } from '../orchestrator/totals.js';
import type { EventStream } from './event-file.js';

export interface MergedRun {
  /** The shards' events, run_started and run_completed left out, with a file_completed for each file a cut-off stream left running. */
  events: RunEvent[];
  /** Files the shards set out to run (for a progress line). */
  files: number;
  /** What is missing or unfinished, for the people reading the report. */
  notes: string[];
  summary: RunCompleted;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function mergeStreams(streams: readonly EventStream[]): MergedRun {
  const events: RunEvent[] = [];
  const notes: string[] = [];
  const owner = new Map<string, string>();
  const starts = streams.flatMap((s) => (s.events[0]?.event === 'run_started' ? [{ path: s.path, start: s.events[0] }] : []));
  // Before the files: a shard given twice is named as such, not as its first file run twice.
  const missing = missingShards(starts);
  let failedShard = missing.length > 0;
  let notRun = 0;
  let files = 0;
  let duration = 0;
  let last = '';

  for (const s of streams) {
    const start = s.events[0]?.event === 'run_started' ? s.events[0] : undefined;
    const label = start?.shard ? `shard ${start.shard.index}/${start.shard.count} (${s.path})` : s.path;
    const running = new Map<string, { passed: number; failed: number; skipped: number; since: string }>();
    let done: RunCompleted | undefined;
    let noFiles = false;
    let completed = 0;
    for (const [i, e] of s.events.entries()) {
      if (done || (e.event === 'run_started' && i > 0)) {
        throw new UsageError(`${s.path}: holds more than one run (event ${i + 1} follows the end or start of another); give each run's event file on its own`);
      }
      if (e.timestamp > last) last = e.timestamp;
      if (e.event === 'run_started') continue;
      // A run that found no test file: complete, with nothing to add.
      if (e.event === 'no_files') {
        noFiles = true;
        continue;
      }
      if (e.event === 'run_completed') {
        done = e;
        continue;
      }
      if (e.event === 'file_started') {
        const other = owner.get(e.file);
        if (other !== undefined && other !== s.path) {
          throw new UsageError(`${e.file} ran in both ${other} and ${s.path}: the event files overlap (the same shard given twice, or shards of different partitions); give each shard's file once`);
        }
        owner.set(e.file, s.path);
        running.set(e.file, { passed: 0, failed: 0, skipped: 0, since: e.timestamp });
      } else if (e.event === 'test_passed' || e.event === 'test_failed' || e.event === 'test_skipped') {
        const r = running.get(e.file);
        if (r) r[e.event === 'test_passed' ? 'passed' : e.event === 'test_failed' ? 'failed' : 'skipped']++;
      } else if (e.event === 'file_completed') {
        running.delete(e.file);
        completed++;
      }
      events.push(e);
    }
    files += start?.files ?? completed + running.size;

    if (s.events.length === 0) {
      notes.push(`${s.path} holds no events: its run never began (or the file is not a shard's): counted as a failure`);
      failedShard = true;
    } else if (noFiles) {
      notes.push(`${s.path} found no *.test.lua files`);
    } else if (!done) {
      const end = s.events.at(-1)!.timestamp;
      for (const [file, r] of running) events.push(cutOff(file, r, end, s.path));
      const never = start ? start.files - completed - running.size : 0;
      notRun += never;
      duration = Math.max(duration, Date.parse(end) - Date.parse(s.events[0]!.timestamp));
      const cut = s.truncated ? ' (its last line is cut off)' : '';
      const counts = [running.size ? `${plural(running.size, 'file')} still running (reported as errors)` : '', never ? `${plural(never, 'file')} never started` : ''].filter(Boolean).join(', ');
      notes.push(`${label} did not finish: its events end without run_completed${cut}, so the run was killed or its file cut short${counts ? `; ${counts}` : ''}: counted as a failure`);
      failedShard = true;
    } else {
      notRun += done.not_run;
      duration = Math.max(duration, done.duration_ms);
      if (done.exit_code === 130) {
        notes.push(`${label} was interrupted (Ctrl-C, exit status 130): counted as a failure`);
        failedShard = true;
      }
    }
  }
  notes.push(...missing);

  const totals = noTotals();
  for (const e of events) if (e.event === 'file_completed') addFile(totals, e);
  const summary: RunCompleted = {
    event: 'run_completed',
    timestamp: last || new Date().toISOString(),
    ...totals,
    not_run: notRun,
    duration_ms: duration,
    exit_code: failedShard || totals.failed_files > 0 || totals.failed > 0 ? 1 : 0,
  };
  return { events, files, notes, summary };
}

function cutOff(file: string, seen: { passed: number; failed: number; skipped: number; since: string }, end: string, path: string): FileCompleted {
  return {
    event: 'file_completed',
    timestamp: end,
    file,
    status: 'error',
    duration_ms: Math.max(0, Date.parse(end) - Date.parse(seen.since)),
    passed: seen.passed,
    failed: seen.failed,
    skipped: seen.skipped,
    error: { message: `did not finish: the events of ${path} end while this file ran (the shard was killed or its event file cut short)` },
    log: [],
  };
}

/** Shards of one split: the same N and the same input, each K once. Returns a note for each K missing. */
function missingShards(starts: { path: string; start: RunStarted }[]): string[] {
  const sharded = starts.filter((s) => s.start.shard);
  if (sharded.length === 0) return [];
  const counts = [...new Set(sharded.map((s) => s.start.shard!.count))];
  if (counts.length > 1) {
    throw new UsageError(`the event files come from different partitions: ${sharded.map((s) => `${s.path} is shard ${s.start.shard!.index}/${s.start.shard!.count}`).join(', ')}; merge the shards of one run`);
  }
  if (new Set(sharded.map((s) => s.start.shard!.partition)).size > 1) {
    throw new UsageError(`the shards were split from different inputs (other test files or paths, or another --durations): ${sharded.map((s) => `${s.path} (shard ${s.start.shard!.index}/${s.start.shard!.count}, split ${s.start.shard!.partition})`).join(', ')}; their files may overlap or leave some out: give every shard the same tree and the same --durations`);
  }
  const seen = new Map<number, string>();
  for (const s of sharded) {
    const k = s.start.shard!.index;
    const other = seen.get(k);
    if (other !== undefined) throw new UsageError(`${other} and ${s.path} are both shard ${k}/${counts[0]}: give each shard's event file once`);
    seen.set(k, s.path);
  }
  return Array.from({ length: counts[0]! }, (_, i) => i + 1)
    .filter((k) => !seen.has(k))
    .map((k) => `shard ${k}/${counts[0]}: no event file given, so its files are missing from this report: counted as a failure`);
}
