import type { ClassSpec } from '../schema-types.js';
import { p, opt, fn, A } from './build.js';

const intArgs = [1, 2, 3, 4, 5, 6].map((i) => opt(`a${i}`, 'any', `Argument ${i}: a number (a float is truncated); anything else but a table is 0.`, '0'));

const path = (doc = 'Guest path.') => p('path', 'string', doc);

export const batch: ClassSpec = {
  name: 'Batch',
  doc: 'The builder `b` that `vm:batch(fn)` passes to `fn`. Each method records one guest operation and returns nothing; once `fn` returns, the operations go to the agent in one request and run in order. A method called after that raises.',
  fields: [],
  methods: [
    fn('run', [p('cmd', 'string', 'As `vm:run`\'s.'), opt('opts', 'RunOpts|string[]', 'As `vm:run`\'s: options, or a list of arguments for direct exec.')], 'nil',
      'Records `vm:run(cmd, opts)`. Its entry is `{ok = RunResult}` whatever the exit status (a nonzero exit is `ok`); `err` when the command could not start.', A),
    fn('read_file', [path()], 'nil', 'Records `vm:read_file(path)`; its entry is `{ok = bytes}`.', A),
    fn('write_file', [path(), p('data', 'bytes', 'Content.')], 'nil', 'Records `vm:write_file(path, data)` (create or replace); its entry is `{}` on success.', A),
    fn('stat', [path()], 'nil', 'Records `vm:stat(path)`; its entry is `{ok = <vm:stat\'s table>}`.', A),
    fn('listdir', [path('Guest directory.')], 'nil', 'Records `vm:listdir(path)`; its entry is `{ok = <the entry list>}`.', A),
    fn('mkdir', [path(), opt('opts', 'boolean|BatchMkdirOpts', '`true` (or `{parents=true}`) creates missing parents; `perm` sets the new directory\'s permission bits exactly.')], 'nil',
      'Records a `mkdir`; its entry is `{}` on success.', A),
    fn('unlink', [path()], 'nil', 'Records `vm:unlink(path)`; its entry is `{}` on success.', A),
    fn('rename', [p('from', 'string', 'Guest path.'), p('to', 'string', 'Guest path.')], 'nil', 'Records `vm:rename(from, to)`; its entry is `{}` on success.', A),
    fn('syscall', [p('nr', 'number', 'The syscall number (x86_64).'), ...intArgs], 'nil',
      'Records `vm:syscall(nr, a1, ..., a6)` (integers only: the table form raises), run in the agent\'s main thread under the 10 s deadline. Its entry is `{ok = {ret, result, errno, out_bufs}}`; a failing call is still `ok`, with `ret = -1` and `errno` set.', A),
  ],
};
