import type { ClassSpec } from '../schema-types.js';
import { p, opt, fn, A } from './build.js';

export const stream: ClassSpec = {
  name: 'Stream',
  doc: 'Output of a process, of the console or of a tailed guest file, read as it arrives. Bytes a read leaves past a match come first in the next read. A closed stream reads as the end. Open streams block snapshots; each is closed automatically at the end of the test (or file) that opened it.',
  fields: [],
  methods: [
    fn('next', [opt('timeout', 'duration', 'How long to wait.', '10s')], 'bytes|nil', 'The next chunk; nil at the end, after `close`, or when `timeout` passes with nothing to return.', A),
    fn('read_until', [p('pattern', 'string', 'Text to find: literally first; a needle with pattern characters that is not found literally is a Lua pattern.'), opt('timeout', 'duration', 'How long to wait.', '10s')], 'bytes', 'Reads up to and including the first match. Raises on timeout ("timed out"), at the end ("EOF") and on a closed stream ("closed").', A),
    fn('expect', [p('pattern', 'string', 'Text to find: literally first; a needle with pattern characters that is not found literally is a Lua pattern.'), opt('timeout', 'duration', 'How long to wait.', '10s')], 'string', 'Raises unless the pattern appears in time; returns the match.', A),
    fn('drain', [opt('timeout', 'duration', 'How long to wait for more.', '0.5s')], 'bytes[]', 'The chunks buffered so far and those that arrive within `timeout` (or until the end), as a list; never raises on a timeout. After `close`: an empty list.', A),
    fn('close', [], 'nil', 'Closes the stream and drops what was left unread. Idempotent.', A),
    fn('eof', [], 'boolean', 'True once the stream has ended or been closed and nothing unread is left.', A),
  ],
};
