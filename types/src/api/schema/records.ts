import type { RecordSpec } from '../schema-types.js';
import { rf } from './build.js';

// The option tables and result records the classes take and return.
export const records: RecordSpec[] = [
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
  { name: 'VmOpts', doc: 'Resources of a VM, and how it boots its kernel.', fields: [
    rf('memory', 'size', 'Guest RAM.', true, 'the profile\'s, else 256M'),
    rf('cpus', 'integer', 'Virtual CPUs.', true, 'the profile\'s, else 1'),
    rf('kernel_format', 'string', 'How the kernel boots: "pvh" (the built-in images\' ELF vmlinux, ~3 s faster under TCG) or "bzimage" (the same kernel through the firmware, which a guest needs to resume from suspend to RAM: `vm:wakeup()`). A provium.toml profile boots the file it names: "bzimage" there requires that file to be a bzImage.', true, '"pvh" for the built-in profiles'),
  ] },
  { name: 'BootOpts', doc: 'Options of `vm:boot()`.', fields: [
    rf('kernel_cmdline', 'string', 'Replaces the profile\'s kernel command line (Provium\'s own words — console=ttyS0, panic=-1, no_timer_check, the agent\'s rdinit= and the hostname — still follow it).'),
    rf('kernel_cmdline_append', 'string', 'Appended to the kernel command line (the profile\'s, or `kernel_cmdline`).'),
    rf('files', 'BootFile[]', 'Files written into the guest before the test sees it.'),
    rf('rng_seed', 'integer', 'Seed for the guest RNG.'),
    rf('initial_time', 'number', 'Guest clock at boot, seconds since the epoch.'),
    rf('disks', 'DiskSpec[]', 'Disks after the profile\'s root disk, in this order (/dev/vdb... with a root disk, /dev/vda... without).'),
  ] },
  { name: 'DiskSpec', doc: 'A disk of `vm:boot{disks=}` or `vm:attach_disk()`: exactly one source (`size` may go with `image` or `template`).', fields: [
    rf('id', 'string', 'The disk\'s id (the guest reads it as the disk serial in /sys/block/vdX/serial when it is at most 20 letters, digits, ".", "-", "_").', true, '"boot<i>" (0-based), "attached-<vm>" for attach_disk'),
    rf('scratch', 'size', 'A fresh, empty raw image of this size (a multiple of 512), owned by the VM.'),
    rf('path', 'string', 'An existing host image (raw or qcow2), used in place: the guest writes into it.'),
    rf('template', 'string', 'A host image (raw or qcow2) copied to a private raw image of the VM: never written.'),
    rf('readonly', 'boolean', 'The guest sees the disk read-only.', true, 'false'),
    rf('mediated', 'boolean', 'Served to QEMU by Provium (NBD) so every guest command is seen: guest-visible faults and power cuts (raw images only).', true, 'false'),
    rf('size', 'size', 'Alone: the original\'s `attach_disk` spelling of `scratch`. With `image` or `template`: the size of the private copy (a multiple of 512, at least the image\'s).'),
    rf('image', 'string', 'Alone: the original\'s `attach_disk` spelling of `path`. With `size`: a private raw copy of the image grown to `size` bytes, as `template` (the image is never written).'),
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
  { name: 'TailOpts', doc: 'Options of `vm:tail_file()`.', fields: [
    rf('start', 'string|number', 'Where the stream starts: "end" (only what is appended after the call), "beginning" or "start" (byte 0), an offset >= 0, or a negative number of bytes before the current end (clamped to 0); a float is truncated toward zero. An offset past the end starts at the end.', true, '"end"'),
  ] },
  { name: 'WorkerOpts', doc: 'Options of `vm:spawn_worker()`: who the worker is and where it starts.', fields: [
    rf('uid', 'integer', 'The user id it runs as (default: the agent\'s, root).'),
    rf('gid', 'integer', 'Its group id (default: the uid\'s group in /etc/passwd, else the uid\'s number).'),
    rf('groups', 'integer[]', 'Its supplementary groups (default with `uid`: the user\'s groups in /etc/group, else none).'),
    rf('caps', 'string[]', 'Capability names ("net_admin", "CAP_SYS_TIME"): it and its commands keep exactly these (default: root\'s all, another uid none).'),
    rf('unshare', 'string[]', 'Namespaces of its own, shared by its commands: "net", "mount", "uts", "ipc", "cgroup".'),
    rf('cwd', 'string', 'Its working directory, which its commands inherit.'),
    rf('env', 'table<string,string>', 'Added to its environment, which its commands inherit.'),
    rf('thread', 'boolean', 'Refused: a worker is always a process.'),
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
  { name: 'BatchMkdirOpts', doc: 'Options of `b:mkdir()` in a batch.', fields: [
    rf('parents', 'boolean', 'Create missing parents (with 0755 less the umask).', true, 'false'),
    rf('perm', 'integer', 'Permission bits of the directory it creates, 0..0o7777, applied exactly (past the umask).', true, '0755 less the umask'),
  ] },
  { name: 'BatchEntry', doc: 'One entry of `vm:batch()`\'s result: `ok` on success (nil for operations that return nothing, so test `entry.err == nil`), or `err`.', fields: [
    rf('ok', 'any', 'What the operation returns as a `vm:` method: RunResult, bytes, the stat table or the entry list; nil for write_file, mkdir, unlink and rename.'),
    rf('err', 'string', 'Why the operation failed (the agent\'s error, naming the path).'),
  ] },
  { name: 'StatResult', doc: 'Result of `vm:stat()`.', fields: [
    rf('size', 'integer', 'Size in bytes.', false), rf('mtime', 'number', 'Modification time, seconds since the epoch.', false),
    rf('mtime_ns', 'number', 'Modification time in nanoseconds since the epoch, as a float: exact to the 256 ns that a double can hold at today\'s dates (docs/vms.md).', false),
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
  { name: 'BandwidthSpec', doc: 'A directional bandwidth limit.', fields: [rf('from', 'VM|string', 'Sender (handle or name), attached.', false), rf('to', 'VM|string', 'Receiver, attached.', false), rf('bps', 'integer', 'Bits per second; 0 clears.', false)] },
  { name: 'CaptureFrame', doc: 'One captured frame.', fields: [
    rf('time', 'number', 'When the bridge saw it: seconds since the epoch, with microseconds.', false), rf('data', 'bytes', 'The Ethernet frame (its first 65535 bytes).', false),
    rf('len', 'integer', 'The frame\'s length on the wire.', false),
  ] },
  { name: 'NicCounters', doc: 'Traffic counters of a NIC.', fields: [
    rf('rx_bytes', 'integer', 'Bytes received.', false), rf('tx_bytes', 'integer', 'Bytes sent.', false),
    rf('rx_packets', 'integer', 'Frames received.', false), rf('tx_packets', 'integer', 'Frames sent.', false),
    rf('errors', 'integer', 'Receive plus transmit errors: frames from the guest the bridge could not take (not Ethernet, oversized) and deliveries to it that failed.', false),
  ] },
];
