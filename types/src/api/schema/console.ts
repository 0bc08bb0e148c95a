import type { ClassSpec } from '../schema-types.js';
import { p, opt, fn, A } from './build.js';

export const consoleCls: ClassSpec = {
  name: 'Console',
  doc: 'The guest\'s serial console.',
  fields: [],
  methods: [
    fn('read', [], 'Stream', 'A stream of console output from now on.', A),
    fn('read_log', [], 'string', 'All console output so far.', A),
    fn('expect', [p('pattern', 'string', 'Text to find: literally first; a needle with pattern characters that is not found literally is a Lua pattern.'), opt('timeout', 'duration', 'How long to wait.', '30s')], 'string', 'Waits until the console output matches.', A),
    fn('write', [p('data', 'bytes', 'Bytes to type.'), opt('opts', 'ConsoleWriteOpts', '`timeout`: how long the write may block (0 or absent: no bound).')], 'nil', 'Writes to the console.', A),
    fn('close', [], 'nil', 'Does nothing; for generic clean-up code.', A),
  ],
};
