import { EventEmitter } from 'node:events';
import { expect, test } from 'vitest';
import { findNeedle, luaFind } from './lua-find.js';
import { STREAM_CHUNK_MAX, STREAM_UNREAD_MAX, Stream } from './stream.js';

/** A stream over an emitter the test drives: 'data' chunks, then 'end'. */
function streamOver(endCause?: () => Promise<Error | undefined>) {
  const src = new EventEmitter();
  const s = new Stream('test source', endCause);
  s.attach((push, end) => {
    src.on('data', push);
    src.on('end', end);
    return () => src.removeAllListeners();
  });
  return { s, src };
}

const never = new AbortController().signal;
const bytes = (b: string | number[]) => new Uint8Array(typeof b === 'string' ? Buffer.from(b) : b);

test('luaFind is string.find: Lua patterns, 1-based inclusive ends, bytes of the match', () => {
  expect(luaFind('abc 42 def', '%d+')).toEqual({ start: 5, end: 6, match: bytes('42') });
  expect(luaFind('a.b', '.')?.match).toEqual(bytes('a'));
  expect(luaFind('x-y', '%-')?.start).toBe(2);
  expect(luaFind('abc', '^b')).toBeUndefined();
  expect(luaFind(Uint8Array.of(0, 0xff, 0x41), '\xff')).toBeUndefined(); // a JS string pattern is UTF-8: U+00FF is two bytes
  expect(luaFind(Uint8Array.of(0, 0xff, 0x41), '%z.A')?.match).toEqual(bytes([0, 0xff, 0x41]));
  expect(() => luaFind('x', '[a')).toThrow('bad Lua pattern "[a": malformed pattern');
});

test('reads consume: until returns through the match (or the match), next the rest', async () => {
  const { s, src } = streamOver();
  const got = s.until('b%d', 10, never, 'match');
  src.emit('data', Buffer.from('aa'));
  src.emit('data', Buffer.from('ab7c\xff'.split('').map((c) => c.charCodeAt(0))));
  expect(await got).toEqual(Buffer.from('b7'));
  src.emit('data', Buffer.from('line\n'));
  expect(await s.until('\n', 10, never, 'through')).toEqual(Buffer.from([0x63, 0xff, ...Buffer.from('line\n')]));
  src.emit('data', Buffer.from('tail'));
  src.emit('end');
  expect(await s.next(10, never)).toEqual(Buffer.from('tail'));
  expect(await s.next(10, never)).toBeUndefined();
  expect(s.eof()).toBe(true);
});

test('an ended stream without a match says so and shows what was left', async () => {
  const { s, src } = streamOver();
  src.emit('data', Buffer.from('no luck'));
  src.emit('end');
  await expect(s.until('found', 10, never, 'match')).rejects.toThrow('test source: EOF: the stream ended without matching "found"; unread output:\nno luck');
});

test('a source that ended because the VM died raises the death instead of ending quietly', async () => {
  const death = new Error('vm "a" died: QEMU exited');
  const { s, src } = streamOver(async () => death);
  const waiting = s.next(10, never);
  src.emit('end');
  await expect(waiting).rejects.toBe(death);
  await expect(s.until('x', 10, never, 'through')).rejects.toBe(death);
});

test('a timeout names the pattern and the unread output', async () => {
  const { s, src } = streamOver();
  src.emit('data', Buffer.from('partial'));
  await expect(s.until('done', 0, never, 'match')).rejects.toThrow('test source: timed out after 0s waiting for "done"; unread output:\npartial');
  await expect(s.drain(0, never)).resolves.toEqual([Buffer.from('partial')]);
  expect(await s.next(0, never)).toBeUndefined(); // nothing in time: nil, not an error (§13)
  expect(s.eof()).toBe(false);
});

test('drain returns the frames as they came, what a read left first; it waits for more until the time or the end', async () => {
  const { s, src } = streamOver();
  src.emit('data', Buffer.from('ab'));
  src.emit('data', Buffer.from('cd'));
  expect(await s.until('b', 1, never, 'through')).toEqual(Buffer.from('ab'));
  src.emit('data', Buffer.from('ef'));
  const later = s.drain(10, never);
  src.emit('data', Buffer.from('gh'));
  src.emit('end');
  expect(await later).toEqual([Buffer.from('cd'), Buffer.from('ef'), Buffer.from('gh')]);
  expect(await s.drain(0, never)).toEqual([]);
});

test('close ends a pending read; a closed stream reads as the end, drops what was left, and refuses to match', async () => {
  const { s, src } = streamOver();
  const waiting = s.next(10, never);
  s.close();
  expect(await waiting).toBeUndefined();
  const { s: s2, src: src2 } = streamOver();
  src2.emit('data', Buffer.from('left'));
  const matching = s2.until('never', 10, never, 'match');
  s2.close();
  await expect(matching).rejects.toThrow('test source: the stream is closed');
  src.emit('data', Buffer.from('late'));
  expect(await s.drain(0, never)).toEqual([]);
  expect(await s.next(0, never)).toBeUndefined();
  expect(s.eof()).toBe(true);
  expect(s2.eof()).toBe(true);
  s.close(); // again: nothing
});

test('an aborted call stops waiting with the abort reason', async () => {
  const { s } = streamOver();
  const ac = new AbortController();
  const waiting = s.until('x', 10, ac.signal, 'match');
  ac.abort(new Error('test timed out'));
  await expect(waiting).rejects.toThrow('test timed out');
});

test('an unread stream keeps at most STREAM_UNREAD_MAX bytes: the next read says how many went, then reads the newest', async () => {
  const { s, src } = streamOver();
  const block = Buffer.alloc(64 * 1024, 0x61);
  const blocks = (STREAM_UNREAD_MAX / block.length) * 2;
  for (let i = 0; i < blocks; i++) src.emit('data', i === blocks - 1 ? Buffer.concat([block.subarray(4), Buffer.from('LAST')]) : block);
  await expect(s.next(1, never)).rejects.toThrow(`${STREAM_UNREAD_MAX} bytes were dropped unread`);
  const chunk = await s.next(1, never);
  expect(chunk!.length).toBe(STREAM_CHUNK_MAX); // one read returns at most a chunk
  const rest = Buffer.concat(await s.drain(0, never));
  expect(chunk!.length + rest.length).toBe(STREAM_UNREAD_MAX);
  expect(rest.subarray(-4).toString()).toBe('LAST');
});

test('needles are found literally first; a needle with pattern characters not found literally is a Lua pattern', () => {
  expect(findNeedle(bytes('provium-agent: ready.'), 'provium-agent: ready.')?.start).toBe(1); // "-" and "." are magic in a pattern
  expect(findNeedle(bytes('a+b'), 'a+b')?.match).toEqual(bytes('a+b'));
  expect(findNeedle(bytes('aab'), 'a+b')?.match).toEqual(bytes('aab')); // not there literally: as a pattern
  expect(findNeedle(bytes('x 42'), '%d+')?.match).toEqual(bytes('42'));
  expect(findNeedle(bytes('plain'), 'other')).toBeUndefined();
});
