/**
 * Reading back an event stream: the JSON lines `provium test --json` prints
 * and `--save-events FILE` writes. Every line is checked for the fields the
 * merge and the reporters read, so a file that is not an event stream is
 * refused at its first bad line instead of failing deep in a report.
 */
import { readFileSync } from 'node:fs';
import type { FileStatus, RunEvent, RunEventName } from '@provium/types';
import { UsageError } from '../errors.js';

export interface EventStream {
  path: string;
  events: RunEvent[];
  /** The last line was cut off (the writer was killed mid-line); it was dropped. */
  truncated: boolean;
}

type Field = 'string' | 'number' | 'boolean' | 'array' | 'object';

const TEST: Record<string, Field> = { file: 'string', test: 'string', meta: 'object' };

/** The fields each event must carry (a Record, so that a new event kind cannot be left out). */
const REQUIRED: Record<RunEventName, Record<string, Field>> = {
  run_started: { files: 'number' },
  file_started: { file: 'string', worker: 'number' },
  test_started: TEST,
  test_passed: { ...TEST, duration_ms: 'number', log: 'array' },
  test_failed: { ...TEST, duration_ms: 'number', log: 'array', error: 'object' },
  test_skipped: { ...TEST, reason: 'string' },
  vm_spawned: { file: 'string', vm: 'string' },
  vm_shutdown: { file: 'string', vm: 'string' },
  vm_kept: { file: 'string', vm: 'string' },
  file_blocked: { file: 'string' },
  fixture_build_started: { fixture: 'string' },
  fixture_build_waiting: { fixture: 'string' },
  fixture_build_done: { fixture: 'string', ok: 'boolean', duration_ms: 'number' },
  fixture_cache_hit: { fixture: 'string' },
  fixture_remote_hit: { fixture: 'string', duration_ms: 'number' },
  fixture_remote_upload: { fixture: 'string', ok: 'boolean', duration_ms: 'number' },
  file_completed: { file: 'string', status: 'string', duration_ms: 'number', passed: 'number', failed: 'number', skipped: 'number', log: 'array' },
  run_completed: { passed: 'number', failed: 'number', skipped: 'number', files: 'number', failed_files: 'number', not_run: 'number', duration_ms: 'number', exit_code: 'number' },
  no_files: { paths: 'array' },
};

const STATUSES: Record<FileStatus, true> = { passed: true, failed: true, timed_out: true, error: true, skipped: true, empty: true, cancelled: true };

const WHAT = 'an event stream is the JSON lines that `provium test --json` prints or `--save-events FILE` writes';

const kindOf = (v: unknown): Field | 'null' | 'other' =>
  Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'object' ? (typeof v as Field) : 'other';

/** What is wrong with one parsed line, or undefined when it is an event. */
function problem(v: unknown): string | undefined {
  if (kindOf(v) !== 'object') return `not an event (a JSON ${kindOf(v)}, not an object with "event")`;
  const o = v as Record<string, unknown>;
  if (typeof o.event !== 'string') return 'not an event (no "event" field)';
  const fields = Object.hasOwn(REQUIRED, o.event) ? REQUIRED[o.event as RunEventName] : undefined;
  if (!fields) return `unknown event "${o.event}" (known: ${Object.keys(REQUIRED).join(', ')}: written by another provium version?)`;
  if (typeof o.timestamp !== 'string') return `"${o.event}" event without a "timestamp" string`;
  for (const [name, kind] of Object.entries(fields)) {
    if (kindOf(o[name]) !== kind) return `"${o.event}" event: "${name}" should be a ${kind}, got ${o[name] === undefined ? 'nothing' : JSON.stringify(o[name])}`;
  }
  if (o.event === 'file_completed' && !Object.hasOwn(STATUSES, o.status as string)) return `"file_completed" event: unknown status ${JSON.stringify(o.status)} (known: ${Object.keys(STATUSES).join(', ')})`;
  return undefined;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Parses `text` (the content of `path`) as an event stream; a bad line is a UsageError naming `path:line`. */
export function parseEventStream(path: string, text: string): EventStream {
  const lines = text.split('\n');
  const complete = text.endsWith('\n');
  if (complete) lines.pop();
  const events: RunEvent[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const last = i === lines.length - 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      // A writer killed mid-line leaves its last line cut off: the lines before it stand.
      if (last && !complete && events.length > 0) return { path, events, truncated: true };
      if (i === 0 && isJson(text)) throw new UsageError(`${path}: one JSON document over several lines, not JSON lines; ${WHAT}`);
      throw new UsageError(`${path}:${i + 1}: not a JSON line (${(e as Error).message}); ${WHAT}`);
    }
    const bad = problem(value);
    if (bad) throw new UsageError(`${path}:${i + 1}: ${bad}; ${WHAT}`);
    events.push(value as RunEvent);
  }
  return { path, events, truncated: false };
}

export function readEventStream(path: string): EventStream {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(`${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'a directory, not an event file' : err.message}`);
  }
  return parseEventStream(path, text);
}
