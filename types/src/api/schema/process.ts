import type { ClassSpec } from '../schema-types.js';
import { p, opt, fn, A } from './build.js';

export const proc: ClassSpec = {
  name: 'Process',
  doc: 'A command started with `vm:run_async()`.',
  fields: [],
  methods: [
    fn('wait', [opt('timeout', 'duration', 'How long to wait (more than 0); none: as long as it takes.')], 'RunResult',
      'Waits for the process to end, once. When `timeout` passes first, the process group is killed and the result says `timed_out` (exit code -2), with the output so far.', A),
    fn('kill', [opt('sig', 'string|integer', 'A signal name, any case, with or without "SIG" ("term", "KILL", "SIGINT"), or its number.', '"term"')], 'nil', 'Sends a signal to the process; one that has exited is no error.', A),
    fn('signal', [p('sig', 'string|integer', 'A signal name or number, as for `kill`.')], 'nil', 'Sends a signal to the process (the argument is required).', A),
    fn('handle', [], 'integer', 'The agent\'s id of the process (not its guest pid).', A),
    fn('close', [], 'nil', 'Unless waited for: SIGTERM, up to 2 s to exit, then SIGKILL. Never raises (what the end of a scope calls).', A),
    fn('pid', [], 'integer', 'The guest pid.', A),
    fn('status', [], 'string', '"running", "exited", "signalled" or "timed_out".', A),
    fn('stdin_write', [p('data', 'bytes', 'Bytes to write.')], 'nil', 'Writes to the process\'s stdin.', A),
    fn('close_stdin', [], 'nil', 'Closes the process\'s stdin.', A),
    fn('stdout_stream', [], 'Stream', 'A stream of the process\'s stdout.', A),
    fn('stderr_stream', [], 'Stream', 'A stream of the process\'s stderr.', A),
  ],
};
