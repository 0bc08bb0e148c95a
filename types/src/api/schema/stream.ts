import type { ClassSpec } from '../schema-types.js';
import { p, opt, fn, A } from './build.js';

export const stream: ClassSpec = {
  name: 'Stream',
  doc: 'Output of a process or of the console, read as it arrives. Closed automatically at the end of the test (or file) that opened it.',
  fields: [],
  methods: [
    fn('next', [opt('timeout', 'duration', 'How long to wait.', '10s')], 'bytes|nil', 'The next chunk; nil at end of stream.', A),
    fn('read_until', [p('pattern', 'string', 'Text to find: literally first; a needle with pattern characters that is not found literally is a Lua pattern.'), opt('timeout', 'duration', 'How long to wait.', '10s')], 'bytes', 'Reads up to and including the first match.', A),
    fn('expect', [p('pattern', 'string', 'Text to find: literally first; a needle with pattern characters that is not found literally is a Lua pattern.'), opt('timeout', 'duration', 'How long to wait.', '10s')], 'string', 'Raises unless the pattern appears in time; returns the match.', A),
    fn('drain', [opt('timeout', 'duration', 'How long to wait for more.', '0.5s')], 'bytes[]', 'The chunks buffered so far and those that arrive within `timeout` (or until the end), as a list; never raises on a timeout.', A),
    fn('close', [], 'nil', 'Closes the stream.', A),
    fn('eof', [], 'boolean', 'True once the stream has ended.', A),
  ],
};
