import type { ApiSchema, Availability, ClassSpec, FieldSpec, FunctionSpec, ParamSpec, RecordSpec } from './schema-types.js';

/** Bumped whenever the Lua API changes shape; part of the fixture cache key. */
export const API_VERSION = '0.1.0';

// Compact constructors keep the schema readable as a table of the API.
const p = (name: string, type: string, doc?: string, extra: Partial<ParamSpec> = {}): ParamSpec => ({ name, type, doc, ...extra });
const opt = (name: string, type: string, doc?: string, dflt?: string): ParamSpec => ({ name, type, doc, optional: true, default: dflt });
const fn = (name: string, params: ParamSpec[], returns: string, doc: string, status: Availability, overloads?: FunctionSpec['overloads']): FunctionSpec =>
  ({ name, params, returns, doc, status, overloads });
const field = (name: string, type: string, doc: string, status: Availability, writable = false): FieldSpec => ({ name, type, doc, status, writable });
const rf = (name: string, type: string, doc: string, optional = true, dflt?: string) => ({ name, type, doc, optional, default: dflt });

const A: Availability = 'available';
const P: Availability = 'planned';

const testContext: ClassSpec = {
  name: 'TestContext',
  doc: 'The `t` passed to a test body: assertions, logging and the test\'s own meta.',
  fields: [
    field('name', 'string', 'The test\'s name as registered with `test(name, ...)`.', A),
    field('meta', 'TestMeta', 'The test\'s meta table (`slow`, `tags`, `timeout`, `skip` and any free keys).', A),
  ],
  methods: [
    fn('assert', [p('cond', 'any', 'Fails the test when falsy.'), opt('msg', 'any', 'Message on failure (any value: `tostring(msg)`); not looked at unless `cond` is falsy.')], 'nil',
      'Fails the test unless `cond` is truthy; as Lua\'s `assert`, `t:assert(s:find("x"))` passes when found.', A),
    fn('assert_eq', [p('a', 'any', 'Actual value.'), p('b', 'any', 'Expected value.'), opt('msg', 'string', 'Message on failure.')], 'nil',
      'Fails unless `a == b` (tables are compared deeply); the message shows both values: `assert_eq failed: apple ~= orange`.', A),
    fn('assert_neq', [p('a', 'any', 'Actual value.'), p('b', 'any', 'Value it must differ from.'), opt('msg', 'string', 'Message on failure.')], 'nil',
      'Fails if `a == b` (deep for tables).', A),
    fn('assert_contains', [p('haystack', 'string|table', 'A string, or a list.'), p('needle', 'any', 'Plain substring, or an element of the list.'), opt('msg', 'string', 'Message on failure.')], 'nil',
      'Fails unless the string contains `needle` (plain, not a pattern) or the list has an element equal to it.', A),
    fn('assert_raises', [p('fn', 'function', 'Called with no arguments; must raise.'), opt('msg', 'string', 'Message on failure.')], 'any',
      'Calls `fn` and fails unless it raises; returns the error value.', A),
    fn('fail', [p('msg', 'string', 'Why the test failed.')], 'nil', 'Fails the test now with `msg`.', A),
    fn('skip', [opt('reason', 'string', 'Shown in the report.')], 'nil', 'Stops the test here and reports it skipped.', A),
    fn('log', [p('msg', 'any', 'Written to the test\'s log (tostring of the value).')], 'nil', 'Adds a line to the test\'s log (shown on failure and with -v).', A),
  ],
};

const lab: ClassSpec = {
  name: 'Lab',
  doc: 'A group of VMs, bridges and sub-labs. `provium` is the file\'s root lab.',
  fields: [
    field('reset_between_tests', 'boolean', 'Root lab only: snapshot the lab after the top-level code and restore it before every later test.', A, true),
    field('timeout', 'duration', 'Root lab only: the per-file watchdog (default 5m; 0: none; multiplied by --timeout-scale).', A, true),
  ],
  dynamicMembers: { type: 'VM|Bridge|Lab', doc: 'A member VM, bridge or sub-lab by name (`cluster.a`).' },
  methods: [
    fn('vm', [p('name', 'string', 'Unique within the lab.'), p('profile', 'string', 'A profile of provium.toml, or "default".'), opt('opts', 'VmOpts', 'Memory and CPUs.')], 'VM',
      'Creates a VM in state `created` (no resources are taken until boot). A name already used is an error.', A,
      [{ params: [p('name', 'string', 'Name of an existing VM.')], returns: 'VM', doc: 'Looks up a VM of this lab by name; an unknown name is an error naming it.' }]),
    fn('bridge', [p('name', 'string', 'Bridge name; VMs resolve each other as `<vm>.<bridge>`.'), p('opts', 'BridgeOpts', 'May be `{}`.')], 'Bridge',
      'Creates a virtual L2 bridge.', A,
      [{ params: [p('name', 'string', 'Bridge name.')], returns: 'Bridge', doc: 'Looks up the bridge of that name, or creates it when the lab has none.' }]),
    fn('lab', [opt('name', 'string', 'Sub-lab name.')], 'Lab', 'Creates a sub-lab.', A),
    fn('include', [p('member', 'VM|Bridge|Lab', 'Member to add.')], 'nil', 'Adds a VM, bridge or lab to this lab.', A),
    fn('remove', [p('member', 'VM|Bridge|Lab|string', 'Member to remove: a handle, or a name (a VM\'s, else a bridge\'s, else a sub-lab\'s; an unknown name does nothing).')], 'nil',
      'Removes a member from this lab; it keeps running.', A),
    fn('members', [], 'LabMember[]', 'The lab\'s direct members: VMs, then bridges, then sub-labs, each sorted by name.', A),
    fn('name', [], 'string', 'A sub-lab\'s name; the root lab\'s is the file\'s path.', A),
    fn('vm_names', [], 'string[]', 'Names of the lab\'s own VMs, sorted.', A),
    fn('bridge_names', [], 'string[]', 'Names of the lab\'s own bridges, sorted.', A),
    fn('sub_lab_names', [], 'string[]', 'Names of the lab\'s sub-labs, sorted.', A),
    fn('boot', [], 'Lab', 'Boots every member VM with ONE resource acquisition, in parallel; returns the lab.', A),
    fn('shutdown', [], 'nil', 'Shuts down every VM of the tree.', A),
    fn('pause', [], 'nil', 'Pauses every VM of the tree.', A),
    fn('resume', [], 'nil', 'Resumes every VM of the tree.', A),
    fn('snapshot', [opt('dir', 'string', 'Directory to write; a fresh temp dir when omitted.')], 'LabSnapshot', 'Snapshots every VM plus bridges and impairments into a directory.', A),
    fn('restore', [p('snap', 'LabSnapshot|string', 'A LabSnapshot or its directory.')], 'Lab', 'Recreates the VMs and bridges of a lab snapshot and resumes them.', A),
    fn('claim', [p('opts', 'ClaimOpts', 'Resources to reserve.')], 'nil', 'Reserves memory and CPUs for this file up front; one claim per file.', A),
    fn('vm_fixture', [p('name', 'string', 'Fixture name: its path under a root without `.fixture.lua`.')], 'VM',
      'A booted VM resumed from the cached single-VM fixture (built first if needed); a member of this lab.', A),
    fn('lab_fixture', [p('name', 'string', 'Fixture name: its path under a root without `.fixture.lua`.')], 'Lab',
      'A sub-lab resumed from the cached lab fixture; its VMs and bridges answer by name.', A),
    fn('depends_on_file', [p('host_path', 'string', 'Host file the fixture cache key must cover.')], 'nil',
      'No-op at run time; declares a host file that the fixture cache key covers.', A),
  ],
};

const vm: ClassSpec = {
  name: 'VM',
  doc: 'A QEMU virtual machine. States: created → booted ⇄ paused; shutdown is terminal.',
  fields: [],
  methods: [
    fn('name', [], 'string', 'The VM\'s name in its lab.', A),
    fn('profile', [], 'string', 'The profile it was created with.', A),
    fn('state', [], 'string', '"created", "booted", "paused", "shutdown", or "dead" when QEMU died (a crash, a kernel panic, a guest reset).', A),
    fn('cid', [], 'integer|nil', 'An integer id of the running VM (booted or paused; nil otherwise). Without vhost-vsock it is its QEMU\'s process id, unique on the host while it runs.', A),
    fn('open_file_count', [], 'integer', 'Files of `vm:open_file` not closed yet.', A),
    fn('open_stream_count', [], 'integer', 'Streams of this VM that are open (process output, `console:read()`).', A),
    fn('is_quiescent', [], 'boolean', 'True when no file and no stream of the VM is open (what `vm:snapshot()` needs).', A),
    fn('close', [], 'nil', 'Shuts the VM down unless it is already; never raises (what the end of a scope calls).', A),
    fn('boot', [opt('opts', 'BootOpts', 'Kernel cmdline, files, RNG seed, initial time.')], 'VM', 'Boots the VM and waits for its agent; returns the VM (chains).', A),
    fn('shutdown', [], 'nil', 'Shuts the VM down (terminal).', A),
    fn('pause', [], 'nil', 'Pauses the VM.', A),
    fn('resume', [], 'nil', 'Resumes a paused VM.', A),
    fn('reset', [], 'nil', 'Hard-resets the VM and waits for its agent.', A),
    fn('power_button', [], 'nil', 'Presses the ACPI power button.', A),
    fn('snapshot', [opt('path', 'string', 'File to write; a fresh temp file when omitted.')], 'Snapshot',
      'Snapshots the running VM into one file; the VM keeps running. Raises if a stream is open. Its NICs are in it: a restore keeps them, unplugged until the VM is attached to a bridge again.', A),
    fn('restore', [p('snap', 'Snapshot|string', 'A Snapshot or its path.')], 'VM', 'Replaces this VM\'s state with a snapshot and resumes it.', A),
    fn('run', [p('cmd', 'string', 'Run through `sh -c`; or the program itself with an argv list or `opts.args`.'), opt('opts', 'RunOpts|string[]', 'Options, or a list of arguments: `{"-l", "/"}` (and `{}`) runs `cmd` directly, without a shell.')], 'RunResult',
      'Runs a command in the guest and waits for it.', A),
    fn('run_async', [p('cmd', 'string', 'Run through `sh -c`; or the program itself with an argv list or `opts.args`.'), opt('opts', 'RunOpts|string[]', 'Options (no timeout), or a list of arguments as for `vm:run`.')], 'Process',
      'Starts a command in the guest and returns at once.', A),
    fn('read_file', [p('path', 'string', 'Guest path.')], 'bytes', 'Reads a guest file (binary-safe).', A),
    fn('write_file', [p('path', 'string', 'Guest path.'), p('data', 'bytes', 'Content.')], 'nil', 'Writes a guest file (binary-safe).', A),
    fn('push_file', [p('host', 'string', 'Host path.'), p('guest', 'string', 'Guest path.')], 'nil',
      'Copies a host file into the guest; in a fixture the host file joins the cache key.', A),
    fn('stat', [p('path', 'string', 'Guest path.')], 'StatResult', 'Size, mtime, permissions and entry type of a guest path.', A),
    fn('listdir', [p('path', 'string', 'Guest directory.')], 'DirEntry[]', 'Entries of a guest directory.', A),
    fn('mkdir', [p('path', 'string', 'Guest path.'), opt('opts', 'MkdirOpts', '`{parents=true}` creates missing parents.')], 'nil', 'Creates a guest directory.', A),
    fn('unlink', [p('path', 'string', 'Guest path.')], 'nil', 'Removes a guest file.', A),
    fn('rename', [p('from', 'string', 'Guest path.'), p('to', 'string', 'Guest path.')], 'nil', 'Renames a guest path.', A),
    fn('open_file', [p('path', 'string', 'Guest path.'), p('mode', 'string|OpenMode', 'fopen-style mode ("r", "w", "a", "r+", "w+", "a+"), or a table of flags.')], 'File', 'Opens a guest file.', A),
    fn('console', [], 'Console', 'The guest\'s serial console.', A),
    fn('clock', [], 'Clock', 'The guest\'s clock.', A),
    fn('nic', [p('bridge', 'string', 'Name of a bridge the VM is attached to, or a guest interface name: `eth<N>`, `ens<N>` or `enp0s<N>` is the N-th (from 0) of the bridges the VM is on, in name order.')], 'NIC', 'The VM\'s network interface on that bridge.', A),
    fn('disk', [p('id', 'string', 'A disk id: "root" (the profile\'s root disk), a boot disk\'s or an attached disk\'s.')], 'Disk', 'A disk of the VM; an unknown id is an error naming the VM\'s disks.', A),
    fn('attach_disk', [opt('spec', 'DiskSpec', 'One source (scratch, path or template); id defaults to "attached-<vm>".', '{scratch = "4G"}')], 'Disk',
      'Adds a disk: hot-plugged into a booted VM (the guest sees a new /dev/vdX), or attached at boot, after the boot disks, to a VM not booted yet.', A),
  ],
};

const disk: ClassSpec = {
  name: 'Disk',
  doc: 'A disk of a VM (see docs/disks.md). Its sector calls act on the VM\'s own image file from the host side: the guest\'s page cache does not see them until it drops its caches.',
  fields: [],
  methods: [
    fn('id', [], 'string', 'The disk\'s id.', A),
    fn('size', [], 'integer', 'The size of the image file in bytes (of the disk the guest sees, for a qcow2 root overlay).', A),
    fn('read_sectors', [p('sector', 'integer', 'First 512-byte sector.'), p('count', 'integer', 'Number of sectors.')], 'bytes',
      'Reads `count` × 512 bytes from byte `sector` × 512 of the image; shorter at the end of the image. Raw images only (scratch, template, raw path disks).', A),
    fn('write_sectors', [p('sector', 'integer', 'First 512-byte sector.'), p('data', 'bytes', 'Bytes to write (any length).')], 'nil', 'Writes `data` at byte `sector` × 512 of the image. Raw images only.', A),
    fn('fault_inject', [p('mode', 'string', '"eio_read", "eio_write" or "slow" (each sector call waits 50 ms).')], 'nil',
      'Adds a fault to the test\'s own sector calls (modes accumulate); the guest never sees these.', A),
    fn('clear_faults', [], 'nil', 'Removes every `fault_inject` mode.', A),
    fn('active_faults', [], 'string[]', 'The active `fault_inject` modes, sorted.', A),
    fn('detach', [], 'nil', 'Unplugs the disk from a running guest (best effort) and makes later sector calls raise; never raises.', A),
    fn('is_detached', [], 'boolean', 'True once `detach()` was called.', A),
    fn('fail_reads', [], 'nil', 'Mediated only: every guest READ fails with EIO (flushes still succeed).', A),
    fn('fail_writes', [], 'nil', 'Mediated only: every guest WRITE fails with EIO (flushes still succeed).', A),
    fn('fail_after', [p('n', 'integer', 'At least 1.')], 'nil',
      'Mediated only: counting guest commands (reads, writes, flushes) from now, the n-th and every later one fails with EIO; the only rule that fails a flush.', A),
    fn('fail_range', [p('sector', 'integer', 'First 512-byte sector.'), p('count', 'integer', 'Sectors, at least 1.')], 'nil',
      'Mediated only: a guest read or write overlapping the range fails with EIO.', A),
    fn('delay', [p('ms', 'integer', 'Milliseconds before each guest command is served; 0 turns it off.')], 'nil', 'Mediated only: slows the disk down.', A),
    fn('clear_policy', [], 'nil', 'Mediated only: the disk serves everything again, without a reboot.', A),
    fn('fault_policy', [], 'table', 'Mediated only: `{fail_reads, fail_writes, fail_after?, fail_range_sector?, fail_range_count?, delay_ms?}`, unset keys absent.', A),
    fn('power_cut', [], 'integer', 'Mediated only: drops every guest write not flushed yet; returns the bytes lost (the guest\'s page cache is untouched).', A),
  ],
};

const snapshot: ClassSpec = {
  name: 'Snapshot',
  doc: 'A thin handle over one snapshot file (see the Snapshot reference page).',
  fields: [],
  methods: [
    fn('path', [], 'string', 'The on-disk path.', A),
    fn('size', [], 'integer', 'The file size in bytes; 0 once the file is gone.', A),
    fn('delete', [], 'nil', 'Best-effort delete; idempotent.', A),
  ],
};

const labSnapshot: ClassSpec = {
  name: 'LabSnapshot',
  doc: 'A thin handle over a directory with one snapshot file per VM plus `lab.json`.',
  fields: [],
  methods: [
    fn('path', [], 'string', 'The on-disk directory.', A),
    fn('size', [], 'integer', 'Sum of the sizes of the files directly in the directory (not recursive); 0 once gone.', A),
    fn('delete', [], 'nil', 'Recursive, best-effort delete; idempotent.', A),
  ],
};

const runResult: ClassSpec = {
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

const proc: ClassSpec = {
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

const file: ClassSpec = {
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
  ],
};

const stream: ClassSpec = {
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

const consoleCls: ClassSpec = {
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

const clock: ClassSpec = {
  name: 'Clock',
  doc: 'The guest\'s wall clock (seconds since the epoch, as a float).',
  fields: [],
  methods: [
    fn('get', [], 'number', 'The guest time.', A),
    fn('set', [p('t', 'number', 'Seconds since the epoch.')], 'nil', 'Sets the guest time.', A),
    fn('advance', [p('d', 'number|string', 'How far to move the clock: seconds, or a duration ("5m"); negative (-30, "-1h") moves it back.')], 'nil', 'Moves the guest clock (read, add, set).', A),
    fn('sleep', [p('d', 'duration', 'How long, at least 0.')], 'nil', 'The agent sleeps `d` inside the guest, then returns.', A),
  ],
};

const bridge: ClassSpec = {
  name: 'Bridge',
  doc: 'A virtual L2 segment between VMs, with impairments applied outside the guests.',
  fields: [],
  methods: [
    fn('name', [], 'string', 'The bridge name.', A),
    fn('attach', [p('vms', 'VM|string|(VM|string)[]', 'VMs (handles or names of the bridge\'s lab) to attach.')], 'nil', 'Gives each VM a NIC on this bridge; VMs reach each other as `<vm>.<bridge>`. A list is checked whole before anything is attached.', A),
    fn('detach', [p('vm', 'VM|string', 'Attached VM (handle or name).')], 'nil', 'Disconnects a VM from the bridge.', A),
    fn('partition', [p('a', 'VM|string|PartitionSpec', 'A VM (handle or name), or `{from=, to=}` for one direction.'), opt('b', 'VM|string', 'The other VM.')], 'nil', 'Drops traffic between two VMs.', A),
    fn('unpartition', [p('a', 'VM|string|PartitionSpec', 'A VM (handle or name), or `{from=, to=}`.'), opt('b', 'VM|string', 'The other VM.')], 'nil', 'Undoes a partition.', A),
    fn('partition_all', [], 'nil', 'Partitions every pair.', A),
    fn('restore_all', [], 'nil', 'Removes every partition.', A),
    fn('add_latency', [p('ms', 'number|LatencySpec', 'Milliseconds, or `{from=, to=, ms=}`.')], 'nil', 'Adds latency to frames.', A),
    fn('drop_rate', [p('pct', 'number|DropSpec', 'Percent 0..100 (fractions allowed; above 100 counts as 100), or `{from=, to=, p=}` with `p` in percent.')], 'nil', 'Drops frames at random (the original\'s percent).', A),
    fn('isolate', [p('vm', 'VM|string', 'VM to cut off.')], 'nil', 'Cuts a VM off from every other member.', A),
    fn('unisolate', [p('vm', 'VM|string', 'VM to reconnect.')], 'nil', 'Undoes isolate.', A),
    fn('is_partitioned', [p('a', 'VM|string', 'A VM.'), p('b', 'VM|string', 'Another VM.')], 'boolean', 'True when traffic between the two is cut both ways (a partition of the pair, or partition_all); ignores one-way rules and isolation.', A),
    fn('is_isolated', [p('vm', 'VM|string', 'A VM.')], 'boolean', 'True while the VM is isolated on this bridge.', A),
    fn('members', [], 'string[]', 'Names of the VMs attached to the bridge, sorted.', A),
    fn('latency_ms', [], 'number', 'The whole-bridge latency in milliseconds (0: none).', A),
    fn('drop_rate_pct', [], 'number', 'The whole-bridge drop rate in percent (0: none).', A),
    fn('nic', [p('vm', 'VM|string', 'An attached VM.')], 'NIC', 'The VM\'s NIC on this bridge.', A),
    fn('reset', [], 'nil', 'Removes every impairment.', A),
    fn('enable_uplink', [], 'nil',
      'NAT from this bridge to the host\'s network and DNS (off by default): each VM on it gets one more NIC, on QEMU\'s user-mode network, with 10.0.2.15, a default route via 10.0.2.2 (the host, its 127.0.0.1 included) and nameserver 10.0.2.3. Nothing from outside reaches a guest; other bridges stay isolated. Kept in lab snapshots.', A),
    fn('disable_uplink', [], 'nil', 'Turns the uplink off: the VMs\' uplink NIC is unplugged, their default route and nameserver go.', A),
    fn('route', [p('to', 'Bridge|string|(Bridge|string)[]', 'A bridge, a bridge name, or a list of them.')], 'nil',
      'Records that this bridge routes to those bridges (L3 reachability), as the original does: graph state only, no packet is routed; the first call of a file logs a notice saying so.', A),
    fn('routes', [], 'string[]', 'The names recorded by `route`, sorted.', A),
  ],
};

const nic: ClassSpec = {
  name: 'NIC',
  doc: 'A VM\'s network interface on one bridge.',
  fields: [],
  methods: [
    fn('counters', [], 'NicCounters', 'Traffic counted by the bridge for this NIC.', A),
    fn('vm_name', [], 'string', 'The VM\'s name.', A),
    fn('bridge', [], 'string', 'The bridge\'s name (not a handle).', A),
    fn('disconnect', [], 'nil', 'A cable pull: the guest sees its link go down and the NIC leaves the bridge\'s forwarding (as `bridge:detach(vm)`); the NIC stays in the VM. Never raises on a NIC whose VM or bridge is gone.', A),
    fn('reconnect', [], 'nil', 'Plugs the cable back in (as `bridge:attach(vm)`). Never raises on a NIC whose VM or bridge is gone.', A),
  ],
};

const records: RecordSpec[] = [
  { name: 'TestMeta', doc: 'Options of `test(name, meta, fn)`; unknown keys are kept and reported in events.', open: true, fields: [
    rf('slow', 'boolean', 'Skipped unless `--include-slow`.'),
    rf('tags', 'string[]', 'Selected with `--tag` / `--no-tag`.'),
    rf('timeout', 'duration', 'Per-test timeout (none by default, or 0).'),
    rf('skip', 'string', 'Skip the test with this reason.'),
  ] },
  { name: 'WaitUntilOpts', doc: 'Options of `wait_until`.', fields: [
    rf('timeout', 'duration', 'Give up after this long.', true, '10s'),
    rf('interval', 'duration', 'Pause between calls.', true, '0.1s'),
    rf('desc', 'string', 'What is awaited, named in the timeout error.'),
  ] },
  { name: 'VmOpts', doc: 'Resources of a VM.', fields: [
    rf('memory', 'size', 'Guest RAM.', true, 'the profile\'s, else 256M'),
    rf('cpus', 'integer', 'Virtual CPUs.', true, 'the profile\'s, else 1'),
  ] },
  { name: 'BootOpts', doc: 'Options of `vm:boot()`.', fields: [
    rf('kernel_cmdline', 'string', 'Replaces the profile\'s kernel command line (Provium\'s own words — console=ttyS0, panic=-1, the agent\'s rdinit= and the hostname — still follow it).'),
    rf('kernel_cmdline_append', 'string', 'Appended to the kernel command line (the profile\'s, or `kernel_cmdline`).'),
    rf('files', 'BootFile[]', 'Files written into the guest before the test sees it.'),
    rf('rng_seed', 'integer', 'Seed for the guest RNG.'),
    rf('initial_time', 'number', 'Guest clock at boot, seconds since the epoch.'),
    rf('disks', 'DiskSpec[]', 'Disks after the profile\'s root disk, in this order (/dev/vdb... with a root disk, /dev/vda... without).'),
  ] },
  { name: 'DiskSpec', doc: 'A disk of `vm:boot{disks=}` or `vm:attach_disk()`: exactly one source.', fields: [
    rf('id', 'string', 'The disk\'s id (the guest reads it as the disk serial in /sys/block/vdX/serial when it is at most 20 letters, digits, ".", "-", "_").', true, '"boot<i>" (0-based), "attached-<vm>" for attach_disk'),
    rf('scratch', 'size', 'A fresh, empty raw image of this size (a multiple of 512), owned by the VM.'),
    rf('path', 'string', 'An existing host image (raw or qcow2), used in place: the guest writes into it.'),
    rf('template', 'string', 'A host image (raw or qcow2) copied to a private raw image of the VM: never written.'),
    rf('readonly', 'boolean', 'The guest sees the disk read-only.', true, 'false'),
    rf('mediated', 'boolean', 'Served to QEMU by Provium (NBD) so every guest command is seen: guest-visible faults and power cuts (raw images only).', true, 'false'),
    rf('size', 'size', 'The original\'s `attach_disk` spelling of `scratch`.'),
    rf('image', 'string', 'The original\'s `attach_disk` spelling of `path`.'),
  ] },
  { name: 'BootFile', doc: 'A file for `BootOpts.files`.', fields: [
    rf('path', 'string', 'Guest path.', false), rf('content', 'bytes', 'Content.', false), rf('mode', 'integer', 'Permission bits.', true, '0644'),
  ] },
  { name: 'RunOpts', doc: 'Options of `vm:run()` / `vm:run_async()`.', fields: [
    rf('args', 'string[]', 'Run `cmd` directly with this argv (no shell).'),
    rf('env', 'table<string,string>', 'Extra environment variables.'),
    rf('cwd', 'string', 'Working directory.'),
    rf('stdin', 'bytes', 'Data fed to stdin.'),
    rf('timeout', 'duration', 'Kill the command after this long (status "timed_out").'),
    rf('timeout_ms', 'integer', 'The timeout in milliseconds; wins over `timeout`.'),
  ] },
  { name: 'OpenMode', doc: 'The flags of `vm:open_file(path, {...})`: at least one of read, write, append.', fields: [
    rf('read', 'boolean', 'Open for reading.', true, 'false'), rf('write', 'boolean', 'Open for writing.', true, 'false'),
    rf('append', 'boolean', 'Write at the end (implies write).', true, 'false'), rf('create', 'boolean', 'Create the file if missing.', true, 'false'),
    rf('truncate', 'boolean', 'Empty the file.', true, 'false'), rf('exclusive', 'boolean', 'With create: fail if the file exists.', true, 'false'),
    rf('perm', 'integer', 'Permission bits of a file the call creates.', true, '0644'),
  ] },
  { name: 'ConsoleWriteOpts', doc: 'Options of `console:write()`.', fields: [rf('timeout', 'duration', 'How long the write may block; 0: no bound.')] },
  { name: 'LabMember', doc: 'An entry of `lab:members()`.', fields: [
    rf('kind', 'string', '"vm", "bridge" or "lab".', false), rf('name', 'string', 'Its name in the lab.', false), rf('ref', 'VM|Bridge|Lab', 'The handle.', false),
  ] },
  { name: 'MkdirOpts', doc: 'Options of `vm:mkdir()`.', fields: [rf('parents', 'boolean', 'Create missing parents.', true, 'false')] },
  { name: 'StatResult', doc: 'Result of `vm:stat()`.', fields: [
    rf('size', 'integer', 'Size in bytes.', false), rf('mtime', 'number', 'Modification time, seconds since the epoch.', false),
    rf('perm', 'integer', 'Permission bits.', false),
    rf('entry_type', 'string', '"file", "directory", "symlink", "fifo", "socket", "block_device", "char_device" or "other" (stat follows symlinks).', false),
  ] },
  { name: 'DirEntry', doc: 'An entry of `vm:listdir()`.', fields: [rf('name', 'string', 'Entry name.', false), rf('entry_type', 'string', 'As `vm:stat`\'s, of the entry itself ("symlink" for a link).', false)] },
  { name: 'ClaimOpts', doc: 'Resources of `lab:claim()`.', fields: [
    rf('memory', 'size', 'Memory to reserve.'), rf('memory_bytes', 'integer', 'The same in bytes (the original\'s key); not with `memory`.'), rf('cpus', 'integer', 'CPUs to reserve.'),
  ] },
  { name: 'BridgeOpts', doc: 'Options of `lab:bridge()`; may be empty.', fields: [] },
  { name: 'PartitionSpec', doc: 'One direction of a partition.', fields: [rf('from', 'VM|string', 'Sender (handle or name).', false), rf('to', 'VM|string', 'Receiver.', false)] },
  { name: 'LatencySpec', doc: 'Directional latency.', fields: [rf('from', 'VM|string', 'Sender (handle or name).'), rf('to', 'VM|string', 'Receiver.'), rf('ms', 'number', 'Milliseconds.', false)] },
  { name: 'DropSpec', doc: 'Directional drop rate.', fields: [rf('from', 'VM|string', 'Sender (handle or name).'), rf('to', 'VM|string', 'Receiver.'), rf('p', 'number', 'Percent 0..100.', false)] },
  { name: 'NicCounters', doc: 'Traffic counters of a NIC.', fields: [
    rf('rx_bytes', 'integer', 'Bytes received.', false), rf('tx_bytes', 'integer', 'Bytes sent.', false),
    rf('rx_packets', 'integer', 'Frames received.', false), rf('tx_packets', 'integer', 'Frames sent.', false),
  ] },
];

export const API: ApiSchema = {
  version: API_VERSION,
  globals: [
    { name: 'provium', kind: 'value', type: 'Lab', doc: 'The file\'s root lab: every Lab method works on it, plus the file settings `reset_between_tests` and `timeout`.', status: A },
    { name: 'test', kind: 'function', status: A, doc: 'Registers a test; bodies run later, in file order.',
      fn: fn('test', [p('name', 'string', 'Unique within the file.'), opt('meta', 'TestMeta', 'slow, tags, timeout, skip and free keys.'), p('fn', 'function', 'The body, called with the test context `t`.')], 'nil',
        'Registers a test; bodies run later, in file order. Duplicate names in one file are an error.', A,
        [{ params: [p('name', 'string', 'Unique within the file.'), p('fn', 'function', 'The body, called with the test context `t`.')], returns: 'nil', doc: 'Without meta.' }]) },
    { name: 'todo', kind: 'function', status: A, doc: 'Marks the whole file skipped.',
      fn: fn('todo', [opt('reason', 'string', 'Shown for every test of the file.')], 'nil', 'Marks the whole file skipped: every test reports skipped with the reason.', A) },
    { name: 'wait_until', kind: 'function', status: A, doc: 'Polls a predicate until it returns a truthy value.',
      fn: fn('wait_until', [p('pred', 'function', 'Called until it returns a truthy value.'), opt('opts', 'WaitUntilOpts', 'timeout (10s), interval (0.1s), desc.')], 'any',
        'Calls `pred` until it returns a truthy value and returns that value; raises on timeout naming `desc`; an error inside `pred` propagates at once.', A) },
  ],
  classes: [testContext, lab, vm, disk, snapshot, labSnapshot, runResult, proc, file, stream, consoleCls, clock, bridge, nic],
  records,
};
