import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';
import { UsageError } from '../errors.js';
import { parseEventStream, readEventStream, type EventStream } from './event-file.js';
import { mergeStreams } from './merge.js';

let clock = Date.parse('2026-01-01T00:00:00.000Z');
const ts = () => new Date((clock += 10)).toISOString();
const meta = {};

/** The events of a finished run of `files` ({file: [passed, failed]}), as shard K/N of split `partition`. */
function run(files: Record<string, [number, number]>, shard?: { index: number; count: number }, partition = 'p1'): RunEvent[] {
  const out: RunEvent[] = [{ event: 'run_started', timestamp: ts(), files: Object.keys(files).length, ...(shard ? { shard: { ...shard, partition } } : {}) }];
  const totals = { passed: 0, failed: 0, skipped: 0, files: 0, failed_files: 0 };
  for (const [file, [passed, failed]] of Object.entries(files)) {
    out.push({ event: 'file_started', timestamp: ts(), file, worker: 0 });
    for (let i = 0; i < passed; i++) out.push({ event: 'test_passed', timestamp: ts(), file, test: `ok ${i}`, meta, duration_ms: 1, log: [] });
    for (let i = 0; i < failed; i++) out.push({ event: 'test_failed', timestamp: ts(), file, test: `bad ${i}`, meta, duration_ms: 1, log: [], error: { message: 'no' } });
    out.push({ event: 'file_completed', timestamp: ts(), file, status: failed ? 'failed' : 'passed', duration_ms: 5, passed, failed, skipped: 0, log: [] });
    Object.assign(totals, { passed: totals.passed + passed, failed: totals.failed + failed, files: totals.files + 1, failed_files: totals.failed_files + (failed ? 1 : 0) });
  }
  out.push({ event: 'run_completed', timestamp: ts(), ...totals, not_run: 0, duration_ms: 40, exit_code: totals.failed ? 1 : 0 });
  return out;
}

const stream = (path: string, events: RunEvent[]): EventStream => ({ path, events, truncated: false });
const text = (events: RunEvent[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('parseEventStream', () => {
  it('reads back the lines --json prints', () => {
    const events = run({ 'a.test.lua': [2, 0] });
    expect(parseEventStream('s.jsonl', text(events))).toEqual({ path: 's.jsonl', events, truncated: false });
  });

  it('refuses what is not an event stream, naming the file and line', () => {
    expect(refusal(() => parseEventStream('r.txt', 'PASS a.test.lua (1 passed)\n'))).toMatch(/^r\.txt:1: not a JSON line .*--save-events/);
    expect(refusal(() => parseEventStream('d.json', '{\n  "provium_durations": 1\n}\n'))).toMatch(/^d\.json: one JSON document over several lines, not JSON lines/);
    expect(refusal(() => parseEventStream('x.jsonl', '{"name": "x"}\n'))).toMatch(/^x\.jsonl:1: not an event \(no "event" field\)/);
    expect(refusal(() => parseEventStream('x.jsonl', '[1, 2]\n'))).toMatch(/^x\.jsonl:1: not an event \(a JSON array/);
    const good = text(run({ 'a.test.lua': [1, 0] }));
    expect(refusal(() => parseEventStream('u.jsonl', good + '{"event":"test_exploded","timestamp":"t"}\n'))).toMatch(/^u\.jsonl:6: unknown event "test_exploded" \(known: run_started, /);
    expect(refusal(() => parseEventStream('f.jsonl', '{"event":"file_completed","timestamp":"t","file":"a","status":"passed","duration_ms":"5","passed":1,"failed":0,"skipped":0,"log":[]}\n'))).toMatch(
      /^f\.jsonl:1: "file_completed" event: "duration_ms" should be a number, got "5"/,
    );
    expect(refusal(() => parseEventStream('s.jsonl', '{"event":"file_completed","timestamp":"t","file":"a","status":"great","duration_ms":5,"passed":1,"failed":0,"skipped":0,"log":[]}\n'))).toMatch(/unknown status "great"/);
  });

  it('drops a last line cut off by a killed writer, and says so', () => {
    const events = run({ 'a.test.lua': [1, 0] }).slice(0, 3);
    const cut = text(events) + '{"event":"test_pas';
    expect(parseEventStream('c.jsonl', cut)).toEqual({ path: 'c.jsonl', events, truncated: true });
    // not when nothing before it was an event: then it is simply not an event stream
    expect(() => parseEventStream('c.jsonl', '{"event":"test_pas')).toThrow(UsageError);
  });

  it('names a missing file', () => {
    expect(refusal(() => readEventStream('/nonexistent/shard-1.jsonl'))).toBe('/nonexistent/shard-1.jsonl: no such file');
  });
});

describe('mergeStreams', () => {
  it('adds up the shards: counts, failure and the longest shard as the time', () => {
    const m = mergeStreams([
      stream('s1', run({ 'a.test.lua': [2, 0], 'b.test.lua': [1, 1] }, { index: 1, count: 2 })),
      stream('s2', run({ 'c.test.lua': [3, 0] }, { index: 2, count: 2 })),
    ]);
    expect(m.notes).toEqual([]);
    expect(m.files).toBe(3);
    expect(m.summary).toMatchObject({ passed: 6, failed: 1, skipped: 0, files: 3, failed_files: 1, not_run: 0, duration_ms: 40, exit_code: 1 });
    expect(m.events.filter((e) => e.event === 'file_completed').map((e) => (e as { file: string }).file)).toEqual(['a.test.lua', 'b.test.lua', 'c.test.lua']);
    expect(m.events.some((e) => e.event === 'run_started' || e.event === 'run_completed')).toBe(false);
    const green = mergeStreams([stream('s1', run({ 'a.test.lua': [2, 0] }, { index: 1, count: 2 })), stream('s2', run({ 'c.test.lua': [3, 0] }, { index: 2, count: 2 }))]);
    expect(green.summary.exit_code).toBe(0);
  });

  it('reports a shard cut short: its running file as an error, the files it never began, a failed merge', () => {
    const full = run({ 'a.test.lua': [1, 0], 'b.test.lua': [2, 0], 'c.test.lua': [1, 0] }, { index: 1, count: 2 });
    // cut after b's first passed test: a is done, b was running, c never began
    const cut = full.slice(0, full.findIndex((e) => e.event === 'test_passed' && e.file === 'b.test.lua') + 1);
    const m = mergeStreams([{ path: 's1', events: cut, truncated: true }, stream('s2', run({ 'd.test.lua': [1, 0] }, { index: 2, count: 2 }))]);
    expect(m.notes).toHaveLength(1);
    expect(m.notes[0]).toMatch(/^shard 1\/2 \(s1\) did not finish: its events end without run_completed \(its last line is cut off\).*1 file still running \(reported as errors\), 1 file never started: counted as a failure$/);
    const b = m.events.find((e) => e.event === 'file_completed' && e.file === 'b.test.lua');
    expect(b).toMatchObject({ status: 'error', passed: 1, failed: 0, error: { message: expect.stringContaining('the events of s1 end while this file ran') } });
    expect(m.summary).toMatchObject({ passed: 3, failed: 1, files: 3, failed_files: 1, not_run: 1, exit_code: 1 });
  });

  it('fails on a missing shard, an interrupted one and an empty file, saying which', () => {
    const missing = mergeStreams([stream('s1', run({ 'a.test.lua': [1, 0] }, { index: 1, count: 3 })), stream('s3', run({ 'c.test.lua': [1, 0] }, { index: 3, count: 3 }))]);
    expect(missing.notes).toEqual(['shard 2/3: no event file given, so its files are missing from this report: counted as a failure']);
    expect(missing.summary.exit_code).toBe(1);

    const interrupted = run({ 'a.test.lua': [1, 0] }, { index: 1, count: 1 });
    Object.assign(interrupted.at(-1)!, { exit_code: 130 });
    const m = mergeStreams([stream('s1', interrupted)]);
    expect(m.notes).toEqual(['shard 1/1 (s1) was interrupted (Ctrl-C, exit status 130): counted as a failure']);
    expect(m.summary.exit_code).toBe(1);

    const empty = mergeStreams([stream('s0', []), stream('s1', run({ 'a.test.lua': [1, 0] }))]);
    expect(empty.notes).toEqual(['s0 holds no events: its run never began (or the file is not a shard\'s): counted as a failure']);
    expect(empty.summary.exit_code).toBe(1);
  });

  it('refuses shards that overlap or come from different splits', () => {
    const s1 = run({ 'a.test.lua': [1, 0] }, { index: 1, count: 2 });
    expect(refusal(() => mergeStreams([stream('x', s1), stream('y', s1)]))).toBe("x and y are both shard 1/2: give each shard's event file once");
    expect(refusal(() => mergeStreams([stream('x', run({ 'a.test.lua': [1, 0] })), stream('y', run({ 'a.test.lua': [1, 0] }))]))).toMatch(/^a\.test\.lua ran in both x and y: the event files overlap/);
    expect(refusal(() => mergeStreams([stream('x', s1), stream('y', run({ 'b.test.lua': [1, 0] }, { index: 2, count: 3 }))]))).toMatch(/^the event files come from different partitions: x is shard 1\/2, y is shard 2\/3/);
    expect(refusal(() => mergeStreams([stream('x', s1), stream('y', run({ 'b.test.lua': [1, 0] }, { index: 2, count: 2 }, 'p2'))]))).toMatch(/^the shards were split from different inputs/);
    expect(refusal(() => mergeStreams([stream('xy', [...s1, ...run({ 'b.test.lua': [1, 0] })])]))).toMatch(/^xy: holds more than one run/);
  });
});
