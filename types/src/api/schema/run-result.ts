import type { ClassSpec } from '../schema-types.js';
import { fn, field, A } from './build.js';

export const runResult: ClassSpec = {
  name: 'RunResult',
  doc: 'The outcome of `vm:run()` or `process:wait()`.',
  fields: [
    field('exit_code', 'integer', 'Exit code; -1 when signalled, -2 when timed out.', A),
    field('stdout', 'bytes', 'Everything the command wrote to stdout.', A),
    field('stderr', 'bytes', 'Everything the command wrote to stderr.', A),
    field('status', 'string', '"exited", "signalled" or "timed_out".', A),
    field('signal', 'integer|nil', 'The POSIX signal number when signalled (9 for SIGKILL), else nil.', A),
    field('signal_name', 'string|nil', 'The signal\'s name when signalled ("KILL"), else nil.', A),
    field('timed_out', 'boolean', 'True when the command hit its timeout.', A),
    field('truncated', 'boolean', 'Of `process:wait()`: true when the process wrote more than the 16 MiB of stdout (or of stderr) that Provium keeps for it; the rest was dropped. (`vm:run` raises past 64 MiB instead.)', A),
  ],
  methods: [
    fn('ok', [], 'boolean', 'True when the command exited with code 0.', A),
    fn('assert_ok', [], 'RunResult', 'Raises unless ok, showing the command, status, exit code, stdout and stderr; returns the result.', A),
  ],
};
