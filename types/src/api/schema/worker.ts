import type { ClassSpec } from '../schema-types.js';
import { p, opt, fn, A } from './build.js';
import { callForms } from './syscall.js';

export const worker: ClassSpec = {
  name: 'Worker',
  doc: 'A second agent process in the guest, from `vm:spawn_worker()`, with credentials of its own: what it runs acts as its uid, gid and groups.',
  fields: [],
  methods: [
    fn('run', [p('cmd', 'string', 'Run through `sh -c`; or the program itself with an argv list or `opts.args`.'), opt('opts', 'RunOpts|string[]', 'Options, or a list of arguments, as for `vm:run`.')], 'RunResult',
      'Runs a command as a child of the worker (with its credentials) and waits for it; the same forms as `vm:run`.', A),
    fn('run_async', [p('cmd', 'string', 'As for `worker:run`.'), opt('opts', 'RunOpts|string[]', 'Options (no timeout), or a list of arguments.')], 'Process',
      'Starts a command as a child of the worker. `wait`, `kill`, `pid`, `status` and the stdin calls go through the worker; its `stdout_stream`/`stderr_stream` raise.', A),
    { name: 'syscall', ...callForms('The call', 'SyscallResult'), status: A,
      doc: 'Makes a system call inside the worker process (its credentials, its address space), with the same forms, result and refusals as `vm:syscall`: `getpid` gives the worker\'s pid. Raises once the worker was joined or died, as its other calls do.' },
    { name: 'syscall_async', ...callForms('The call', 'SyscallHandle'), status: A,
      doc: 'Starts the same call on a thread of the worker\'s own and returns a handle at once, as `vm:syscall_async`; a call not awaited is interrupted at the end of the scope that made it.' },
    fn('open_file', [p('path', 'string', 'Guest path.'), p('mode', 'string|OpenMode', 'As for `vm:open_file`.')], 'File',
      'Always raises: a File lives in the main agent; open it with `vm:open_file`, or inside the worker with `worker:syscall(openat, ...)`.', A),
    fn('kill', [opt('sig', 'string|integer', 'A signal name or number, as for `process:kill`.', '"term"')], 'nil', 'Signals the worker process itself.', A),
    fn('join', [], 'integer', 'Ends the worker (closes its channel), waits for it and returns its exit status: the code, or 128 + the signal number. Terminal: every later call on the worker raises.', A),
    fn('handle', [], 'integer', 'The agent\'s id of the worker (positive; for logs).', A),
    fn('close', [], 'nil', 'SIGTERM, then join. Never raises; a second call does nothing. What the end of a scope calls.', A),
  ],
};
