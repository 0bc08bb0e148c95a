import type { ClassSpec } from '../schema-types.js';
import { p, opt, fn, A } from './build.js';

export const file: ClassSpec = {
  name: 'File',
  doc: 'An open guest file.',
  fields: [],
  methods: [
    fn('read', [p('n', 'integer', 'Maximum number of bytes.')], 'bytes', 'Reads up to `n` bytes ("" at end of file).', A),
    fn('read_all', [], 'bytes', 'Reads to the end of the file.', A),
    fn('write', [p('data', 'bytes', 'Bytes to write.')], 'integer', 'Writes at the current offset; returns the bytes written.', A),
    fn('seek', [p('off', 'integer', 'Offset.'), opt('whence', 'string', '"set", "cur" or "end".', '"set"')], 'integer', 'Moves the offset; returns the new one.', A),
    fn('tell', [], 'integer', 'The current offset.', A),
    fn('close', [], 'nil', 'Closes the file.', A),
    fn('fd', [], 'integer', 'The File\'s id in the agent\'s open-file table (what `vm:fd_stream` and `vm:ioctl` take; not a guest kernel descriptor); 0 after `close`.', A),
    fn('tail_stream', [], 'Stream', 'Follows the file\'s path from the File\'s current offset, as `vm:tail_file(path, {start = offset})` does.', A),
  ],
};
