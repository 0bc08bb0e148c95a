// Generated from the API schema (types/src/api/schema.ts) by `npm run gen:api`: do not edit.
// The runtime implements each interface in runner/src/worker/api/<class>.ts; "Go to Implementation"
// on a member below lands on its code.
import type { ApiObject, ClassHooks, FieldBinding, GlobalFunctionBinding, GlobalValueBinding, MemberHook, MethodBinding, WritableFieldBinding } from './binding-types.js';

/** Options of `test(name, meta, fn)`; unknown keys are kept and reported in events. */
export interface TestMeta {
  /** Skipped unless `--include-slow`. */
  slow?: boolean;
  /** Selected with `--tag` / `--no-tag`. */
  tags?: string[];
  /** Per-test timeout (none by default, or 0). */
  timeout?: number;
  /** Skip the test with this reason. */
  skip?: string;
  [key: string]: unknown;
}

/** Options of `wait_until`. */
export interface WaitUntilOpts {
  /** Give up after this long. */
  timeout?: number;
  /** Pause between calls. */
  interval?: number;
  /** What is awaited, named in the timeout error. */
  desc?: string;
}

/** Resources of a VM, and how it boots its kernel. */
export interface VmOpts {
  /** Guest RAM. */
  memory?: number;
  /** Virtual CPUs. */
  cpus?: number;
  /** How the kernel boots: "pvh" (the built-in images' ELF vmlinux, ~3 s faster under TCG) or "bzimage" (the same kernel through the firmware, which a guest needs to resume from suspend to RAM: `vm:wakeup()`). A provium.toml profile boots the file it names: "bzimage" there requires that file to be a bzImage. */
  kernel_format?: string;
}

/** Options of `vm:boot()`. */
export interface BootOpts {
  /** Replaces the profile's kernel command line (Provium's own words — console=ttyS0, panic=-1, no_timer_check, the agent's rdinit= and the hostname — still follow it). */
  kernel_cmdline?: string;
  /** Appended to the kernel command line (the profile's, or `kernel_cmdline`). */
  kernel_cmdline_append?: string;
  /** Files written into the guest before the test sees it. */
  files?: BootFile[];
  /** Seed for the guest RNG. */
  rng_seed?: number;
  /** Guest clock at boot, seconds since the epoch. */
  initial_time?: number;
  /** Disks after the profile's root disk, in this order (/dev/vdb... with a root disk, /dev/vda... without). */
  disks?: DiskSpec[];
}

/** A disk of `vm:boot{disks=}` or `vm:attach_disk()`: exactly one source (`size` may go with `image` or `template`). */
export interface DiskSpec {
  /** The disk's id (the guest reads it as the disk serial in /sys/block/vdX/serial when it is at most 20 letters, digits, ".", "-", "_"). */
  id?: string;
  /** A fresh, empty raw image of this size (a multiple of 512), owned by the VM. */
  scratch?: number;
  /** An existing host image (raw or qcow2), used in place: the guest writes into it. */
  path?: string;
  /** A host image (raw or qcow2) copied to a private raw image of the VM: never written. */
  template?: string;
  /** The guest sees the disk read-only. */
  readonly?: boolean;
  /** Served to QEMU by Provium (NBD) so every guest command is seen: guest-visible faults and power cuts (raw images only). */
  mediated?: boolean;
  /** Alone: the original's `attach_disk` spelling of `scratch`. With `image` or `template`: the size of the private copy (a multiple of 512, at least the image's). */
  size?: number;
  /** Alone: the original's `attach_disk` spelling of `path`. With `size`: a private raw copy of the image grown to `size` bytes, as `template` (the image is never written). */
  image?: string;
}

/** A file for `BootOpts.files`. */
export interface BootFile {
  /** Guest path. */
  path: string;
  /** Content. */
  content: Uint8Array;
  /** Permission bits. */
  mode?: number;
}

/** Options of `vm:run()` / `vm:run_async()`. */
export interface RunOpts {
  /** Run `cmd` directly with this argv (no shell). */
  args?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Data fed to stdin. */
  stdin?: Uint8Array;
  /** Kill the command after this long (status "timed_out"). */
  timeout?: number;
  /** The timeout in milliseconds; wins over `timeout`. */
  timeout_ms?: number;
}

/** Options of `vm:tail_file()`. */
export interface TailOpts {
  /** Where the stream starts: "end" (only what is appended after the call), "beginning" or "start" (byte 0), an offset >= 0, or a negative number of bytes before the current end (clamped to 0); a float is truncated toward zero. An offset past the end starts at the end. */
  start?: string | number;
}

/** Options of `vm:spawn_worker()`: who the worker is and where it starts. */
export interface WorkerOpts {
  /** The user id it runs as (default: the agent's, root). */
  uid?: number;
  /** Its group id (default: the uid's group in /etc/passwd, else the uid's number). */
  gid?: number;
  /** Its supplementary groups (default with `uid`: the user's groups in /etc/group, else none). */
  groups?: number[];
  /** Capability names ("net_admin", "CAP_SYS_TIME"): it and its commands keep exactly these (default: root's all, another uid none). */
  caps?: string[];
  /** Namespaces of its own, shared by its commands: "net", "mount", "uts", "ipc", "cgroup". */
  unshare?: string[];
  /** Its working directory, which its commands inherit. */
  cwd?: string;
  /** Added to its environment, which its commands inherit. */
  env?: Record<string, string>;
  /** Refused: a worker is always a process. */
  thread?: boolean;
}

/** The flags of `vm:open_file(path, {...})`: at least one of read, write, append. */
export interface OpenMode {
  /** Open for reading. */
  read?: boolean;
  /** Open for writing. */
  write?: boolean;
  /** Write at the end (implies write). */
  append?: boolean;
  /** Create the file if missing. */
  create?: boolean;
  /** Empty the file. */
  truncate?: boolean;
  /** With create: fail if the file exists. */
  exclusive?: boolean;
  /** Permission bits of a file the call creates. */
  perm?: number;
}

/** Options of `console:write()`. */
export interface ConsoleWriteOpts {
  /** How long the write may block; 0: no bound. */
  timeout?: number;
}

/** An entry of `lab:members()`. */
export interface LabMember {
  /** "vm", "bridge" or "lab". */
  kind: string;
  /** Its name in the lab. */
  name: string;
  /** The handle. */
  ref: ApiObject<'VM'> | ApiObject<'Bridge'> | ApiObject<'Lab'>;
}

/** Options of `vm:mkdir()`. */
export interface MkdirOpts {
  /** Create missing parents. */
  parents?: boolean;
}

/** Options of `b:mkdir()` in a batch. */
export interface BatchMkdirOpts {
  /** Create missing parents (with 0755 less the umask). */
  parents?: boolean;
  /** Permission bits of the directory it creates, 0..0o7777, applied exactly (past the umask). */
  perm?: number;
}

/** One entry of `vm:batch()`'s result: `ok` on success (nil for operations that return nothing, so test `entry.err == nil`), or `err`. */
export interface BatchEntry {
  /** What the operation returns as a `vm:` method: RunResult, bytes, the stat table or the entry list; nil for write_file, mkdir, unlink and rename. */
  ok?: unknown;
  /** Why the operation failed (the agent's error, naming the path). */
  err?: string;
}

/** Result of `vm:stat()`. */
export interface StatResult {
  /** Size in bytes. */
  size: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** Modification time in nanoseconds since the epoch, as a float: exact to the 256 ns that a double can hold at today's dates (docs/vms.md). */
  mtime_ns: number;
  /** Permission bits. */
  perm: number;
  /** "file", "directory", "symlink", "fifo", "socket", "block_device", "char_device" or "other" (stat follows symlinks). */
  entry_type: string;
}

/** An entry of `vm:listdir()`. */
export interface DirEntry {
  /** Entry name. */
  name: string;
  /** As `vm:stat`'s, of the entry itself ("symlink" for a link). */
  entry_type: string;
}

/** Resources of `lab:claim()`. */
export interface ClaimOpts {
  /** Memory to reserve. */
  memory?: number;
  /** The same in bytes (the original's key); not with `memory`. */
  memory_bytes?: number;
  /** CPUs to reserve. */
  cpus?: number;
}

/** Options of `lab:bridge()`; may be empty. */
export interface BridgeOpts {
}

/** One direction of a partition. */
export interface PartitionSpec {
  /** Sender (handle or name). */
  from: ApiObject<'VM'> | string;
  /** Receiver. */
  to: ApiObject<'VM'> | string;
}

/** Directional latency. */
export interface LatencySpec {
  /** Sender (handle or name). */
  from?: ApiObject<'VM'> | string;
  /** Receiver. */
  to?: ApiObject<'VM'> | string;
  /** Milliseconds. */
  ms: number;
}

/** Directional drop rate. */
export interface DropSpec {
  /** Sender (handle or name). */
  from?: ApiObject<'VM'> | string;
  /** Receiver. */
  to?: ApiObject<'VM'> | string;
  /** Percent 0..100. */
  p: number;
}

/** A directional bandwidth limit. */
export interface BandwidthSpec {
  /** Sender (handle or name), attached. */
  from: ApiObject<'VM'> | string;
  /** Receiver, attached. */
  to: ApiObject<'VM'> | string;
  /** Bits per second; 0 clears. */
  bps: number;
}

/** One captured frame. */
export interface CaptureFrame {
  /** When the bridge saw it: seconds since the epoch, with microseconds. */
  time: number;
  /** The Ethernet frame (its first 65535 bytes). */
  data: Uint8Array;
  /** The frame's length on the wire. */
  len: number;
}

/** Traffic counters of a NIC. */
export interface NicCounters {
  /** Bytes received. */
  rx_bytes: number;
  /** Bytes sent. */
  tx_bytes: number;
  /** Frames received. */
  rx_packets: number;
  /** Frames sent. */
  tx_packets: number;
  /** Receive plus transmit errors: frames from the guest the bridge could not take (not Ethernet, oversized) and deliveries to it that failed. */
  errors: number;
}

/** The table form of `vm:syscall()`. */
export interface SyscallSpec {
  /** Up to six integer arguments (more are ignored; floats are truncated). */
  args?: number[];
  /** Buffers: bytes copied in, or a size for that many zero bytes (an out buffer). 16 at most, 16 MiB each, 64 MiB together. */
  bufs?: (Uint8Array | number)[];
  /** `ptrs[i]` is the argument slot (0..5: 0 is the first argument) that receives the address of `bufs[i]`. */
  ptrs?: number[];
  /** Addresses written into buffers (for structs that point at other buffers). */
  nested?: SyscallNested[];
  /** Interrupt the call (EINTR) when it has not returned after this long; at most 60 s for `vm:syscall`. */
  timeout?: number;
}

/** The address of `bufs[child]`, written into `bufs[parent]` at byte `offset` (1-based buffer numbers). */
export interface SyscallNested {
  /** The buffer that receives the address. */
  parent: number;
  /** The buffer whose address it is. */
  child: number;
  /** Byte offset in the parent; the 8 bytes must fit. */
  offset: number;
}

/** What a system call returned. */
export interface SyscallResult {
  /** The raw return value (-1 on failure). */
  ret: number;
  /** The same number. */
  result: number;
  /** The error number, 0 on success. */
  errno: number;
  /** Every buffer after the call, in order. */
  out_bufs: Uint8Array[];
}

/** Auxiliary buffers of `vm:ioctl()`. */
export interface IoctlOpts {
  /** Buffers: bytes copied in, or a size for that many zero bytes (an out buffer). 16 at most, 16 MiB each, 64 MiB together. */
  bufs?: (Uint8Array | number)[];
  /** `ptr_offsets[i]`: the byte offset in `data` that receives the address of `bufs[i]`. */
  ptr_offsets?: number[];
}

/** What an ioctl returned. */
export interface IoctlResult {
  /** The return value (0 or more). */
  ret: number;
  /** The same number. */
  result: number;
  /** `data` after the call. */
  out_data: Uint8Array;
  /** The auxiliary buffers after the call. */
  out_bufs: Uint8Array[];
}

/** TestContext: The `t` passed to a test body: assertions, logging and the test's own meta. */
export interface TestContextBinding extends ClassHooks<ApiObject<'TestContext'>> {
  fields: {
    /** The test's name as registered with `test(name, ...)`. */
    name: FieldBinding<ApiObject<'TestContext'>, string | Uint8Array>;
    /** The test's meta table (`slow`, `tags`, `timeout`, `skip` and any free keys). */
    meta: FieldBinding<ApiObject<'TestContext'>, TestMeta>;
  };
  methods: {
    /** Fails the test unless `cond` is truthy; as Lua's `assert`, `t:assert(s:find("x"))` passes when found. */
    assert: MethodBinding<ApiObject<'TestContext'>, [cond: unknown, msg?: unknown], void>;
    /** Fails unless `a == b` (tables are compared deeply); the message shows both values: `assert_eq failed: apple ~= orange`. */
    assert_eq: MethodBinding<ApiObject<'TestContext'>, [a: unknown, b: unknown, msg?: string], void>;
    /** Fails if `a == b` (deep for tables). */
    assert_neq: MethodBinding<ApiObject<'TestContext'>, [a: unknown, b: unknown, msg?: string], void>;
    /** Fails unless the string contains `needle` (plain, not a pattern) or the list has an element equal to it. */
    assert_contains: MethodBinding<ApiObject<'TestContext'>, [haystack: unknown, needle: unknown, msg?: string], void>;
    /** Calls `fn` and fails unless it raises; returns the error value. */
    assert_raises: MethodBinding<ApiObject<'TestContext'>, [fn: unknown, msg?: string], unknown>;
    /** Fails the test now with `msg`. */
    fail: MethodBinding<ApiObject<'TestContext'>, [msg: string], void>;
    /** Stops the test here and reports it skipped. */
    skip: MethodBinding<ApiObject<'TestContext'>, [reason?: string], void>;
    /** Adds a line to the test's log (shown on failure and with -v). */
    log: MethodBinding<ApiObject<'TestContext'>, [msg: unknown], void>;
  };
}

/** Lab: A group of VMs, bridges and sub-labs. `provium` is the file's root lab. */
export interface LabBinding extends ClassHooks<ApiObject<'Lab'>>, MemberHook<ApiObject<'Lab'>, ApiObject<'VM'> | ApiObject<'Bridge'> | ApiObject<'Lab'>> {
  fields: {
    /** Root lab only: snapshot the lab after the top-level code and restore it before every later test. */
    reset_between_tests: WritableFieldBinding<ApiObject<'Lab'>, boolean, boolean>;
    /** Root lab only: the per-file watchdog (default 5m; 0: none; multiplied by --timeout-scale). */
    timeout: WritableFieldBinding<ApiObject<'Lab'>, number, number>;
    /** `string.pack`, callable as `provium.pack(fmt, ...)` or `provium:pack(fmt, ...)` (Lua 5.3 formats; integers are 32-bit here). */
    pack: FieldBinding<ApiObject<'Lab'>, unknown>;
    /** `string.unpack`, callable as `provium.unpack(fmt, s, pos?)` or `provium:unpack(...)`; returns the values and the next position. */
    unpack: FieldBinding<ApiObject<'Lab'>, unknown>;
  };
  methods: {
    /** Creates a VM in state `created` (no resources are taken until boot). A name already used is an error. */
    vm: MethodBinding<ApiObject<'Lab'>, [name: string, profile: string, opts?: VmOpts] | [name: string], ApiObject<'VM'>>;
    /** Creates a virtual L2 bridge. */
    bridge: MethodBinding<ApiObject<'Lab'>, [name: string, opts: BridgeOpts] | [name: string], ApiObject<'Bridge'>>;
    /** Creates a sub-lab. */
    lab: MethodBinding<ApiObject<'Lab'>, [name?: string], ApiObject<'Lab'>>;
    /** Adds a VM, bridge or lab to this lab. A list is checked whole before anything is included: a bad element (not a VM, Bridge or Lab handle) or one that cannot be included raises naming its index, and nothing is included. */
    include: MethodBinding<ApiObject<'Lab'>, [member: ApiObject<'VM'> | ApiObject<'Bridge'> | ApiObject<'Lab'> | (ApiObject<'VM'> | ApiObject<'Bridge'> | ApiObject<'Lab'>)[]], void>;
    /** Removes a member from this lab; it keeps running. */
    remove: MethodBinding<ApiObject<'Lab'>, [member: ApiObject<'VM'> | ApiObject<'Bridge'> | ApiObject<'Lab'> | string], void>;
    /** The lab's direct members: VMs, then bridges, then sub-labs, each sorted by name. */
    members: MethodBinding<ApiObject<'Lab'>, [], LabMember[]>;
    /** A sub-lab's name; the root lab's is the file's path. */
    name: MethodBinding<ApiObject<'Lab'>, [], string | Uint8Array>;
    /** Names of the lab's own VMs, sorted. */
    vm_names: MethodBinding<ApiObject<'Lab'>, [], (string | Uint8Array)[]>;
    /** Names of the lab's own bridges, sorted. */
    bridge_names: MethodBinding<ApiObject<'Lab'>, [], (string | Uint8Array)[]>;
    /** Names of the lab's sub-labs, sorted. */
    sub_lab_names: MethodBinding<ApiObject<'Lab'>, [], (string | Uint8Array)[]>;
    /** Waits until `count` arrivals (calls in coroutines of this file) are present, then releases them all with true; false when the timeout passes first (the arrival is withdrawn) or `count` differs from the round's. */
    barrier: MethodBinding<ApiObject<'Lab'>, [name: string, count: number, timeout?: number], boolean>;
    /** Boots every member VM with ONE resource acquisition, in parallel; returns the lab. */
    boot: MethodBinding<ApiObject<'Lab'>, [], ApiObject<'Lab'>>;
    /** Shuts down every VM of the tree. */
    shutdown: MethodBinding<ApiObject<'Lab'>, [], void>;
    /** Pauses every VM of the tree. */
    pause: MethodBinding<ApiObject<'Lab'>, [], void>;
    /** Resumes every VM of the tree. */
    resume: MethodBinding<ApiObject<'Lab'>, [], void>;
    /** Snapshots every running VM plus the network (bridges, impairments, graph-only members and their partitions) into a directory; a lab with bridges and no running VM snapshots its network only. */
    snapshot: MethodBinding<ApiObject<'Lab'>, [dir?: string], ApiObject<'LabSnapshot'>>;
    /** Recreates the VMs and bridges of a lab snapshot and resumes them. */
    restore: MethodBinding<ApiObject<'Lab'>, [snap: ApiObject<'LabSnapshot'> | string], ApiObject<'Lab'>>;
    /** Reserves memory and CPUs for this file up front; one claim per file. */
    claim: MethodBinding<ApiObject<'Lab'>, [opts: ClaimOpts], void>;
    /** A booted VM resumed from the cached single-VM fixture (built first if needed); a member of this lab. */
    vm_fixture: MethodBinding<ApiObject<'Lab'>, [name: string], ApiObject<'VM'>>;
    /** A sub-lab resumed from the cached lab fixture; its VMs and bridges answer by name. */
    lab_fixture: MethodBinding<ApiObject<'Lab'>, [name: string], ApiObject<'Lab'>>;
    /** No-op at run time; declares a host file that the fixture cache key covers. */
    depends_on_file: MethodBinding<ApiObject<'Lab'>, [host_path: string], void>;
  };
}

/** VM: A QEMU virtual machine. States: created → booted ⇄ paused; shutdown is terminal. */
export interface VMBinding extends ClassHooks<ApiObject<'VM'>> {
  methods: {
    /** The VM's name in its lab. */
    name: MethodBinding<ApiObject<'VM'>, [], string | Uint8Array>;
    /** The profile it was created with. */
    profile: MethodBinding<ApiObject<'VM'>, [], string | Uint8Array>;
    /** "created", "booted", "paused", "suspended" (booted, and the guest suspended itself to RAM: `vm:wakeup()`), "shutdown", or "dead" when QEMU died (a crash, a kernel panic, a guest reset). */
    state: MethodBinding<ApiObject<'VM'>, [], string | Uint8Array>;
    /** An integer id of the running VM (booted or paused; nil otherwise). Without vhost-vsock it is its QEMU's process id, unique on the host while it runs. */
    cid: MethodBinding<ApiObject<'VM'>, [], number | void>;
    /** Files of `vm:open_file` not closed yet. */
    open_file_count: MethodBinding<ApiObject<'VM'>, [], number>;
    /** Streams of this VM that are open (`tail_file`, `fd_stream`, `file:tail_stream`, process output, `console:read()`). */
    open_stream_count: MethodBinding<ApiObject<'VM'>, [], number>;
    /** True when no file and no stream of the VM is open (what `vm:snapshot()` needs). */
    is_quiescent: MethodBinding<ApiObject<'VM'>, [], boolean>;
    /** Shuts the VM down unless it is already; never raises (what the end of a scope calls). */
    close: MethodBinding<ApiObject<'VM'>, [], void>;
    /** Boots the VM and waits for its agent; returns the VM (chains). */
    boot: MethodBinding<ApiObject<'VM'>, [opts?: BootOpts], ApiObject<'VM'>>;
    /** Shuts the VM down (terminal). */
    shutdown: MethodBinding<ApiObject<'VM'>, [], void>;
    /** Pauses the VM. */
    pause: MethodBinding<ApiObject<'VM'>, [], void>;
    /** Resumes a paused VM. */
    resume: MethodBinding<ApiObject<'VM'>, [], void>;
    /** Hard-resets the VM and waits for its agent. */
    reset: MethodBinding<ApiObject<'VM'>, [], void>;
    /** Presses the ACPI power button. */
    power_button: MethodBinding<ApiObject<'VM'>, [], void>;
    /** Snapshots the running VM into one file; the VM keeps running. Raises if a stream is open. Its NICs are in it: a restore keeps them, unplugged until the VM is attached to a bridge again. */
    snapshot: MethodBinding<ApiObject<'VM'>, [path?: string], ApiObject<'Snapshot'>>;
    /** Replaces this VM's state with a snapshot and resumes it. */
    restore: MethodBinding<ApiObject<'VM'>, [snap: ApiObject<'Snapshot'> | string], ApiObject<'VM'>>;
    /** Runs a command in the guest and waits for it. */
    run: MethodBinding<ApiObject<'VM'>, [cmd: string, opts?: RunOpts | string[]], ApiObject<'RunResult'>>;
    /** Starts a command in the guest and returns at once. */
    run_async: MethodBinding<ApiObject<'VM'>, [cmd: string, opts?: RunOpts | string[]], ApiObject<'Process'>>;
    /** Starts a worker: a second agent process in the guest with its own credentials. It is joined at the end of the scope that made it. */
    spawn_worker: MethodBinding<ApiObject<'VM'>, [opts?: WorkerOpts], ApiObject<'Worker'>>;
    /** Reads a guest file (binary-safe), at most 64 MiB: a bigger one is refused with its size; read it in parts with `open_file` or follow it with `tail_file`. */
    read_file: MethodBinding<ApiObject<'VM'>, [path: string], string | Uint8Array>;
    /** Writes a guest file (binary-safe). */
    write_file: MethodBinding<ApiObject<'VM'>, [path: string, data: Uint8Array], void>;
    /** Copies a host file into the guest; in a fixture the host file joins the cache key. */
    push_file: MethodBinding<ApiObject<'VM'>, [host: string, guest: string], void>;
    /** Size, mtime, permissions and entry type of a guest path. */
    stat: MethodBinding<ApiObject<'VM'>, [path: string], StatResult>;
    /** Entries of a guest directory. */
    listdir: MethodBinding<ApiObject<'VM'>, [path: string], DirEntry[]>;
    /** Creates a guest directory. */
    mkdir: MethodBinding<ApiObject<'VM'>, [path: string, opts?: MkdirOpts], void>;
    /** Removes a guest file. */
    unlink: MethodBinding<ApiObject<'VM'>, [path: string], void>;
    /** Renames a guest path. */
    rename: MethodBinding<ApiObject<'VM'>, [from: string, to: string], void>;
    /** Runs the operations `fn` recorded on `b` in one agent round trip, in order, each after the previous one ended. Returns one entry per operation, in call order: `{ok = value}` or `{err = message}`; a failing operation does not stop the later ones. An empty batch returns `{}` without contacting the guest; an error inside `fn` propagates and nothing is sent. */
    batch: MethodBinding<ApiObject<'VM'>, [fn: unknown], BatchEntry[]>;
    /** Opens a guest file. */
    open_file: MethodBinding<ApiObject<'VM'>, [path: string, mode: string | OpenMode], ApiObject<'File'>>;
    /** Follows a guest file as it grows: each frame is an appended chunk. A truncated file is read on from its start; when the path names a new file (rotation), the old one is read to its end and the new one is followed from its start. The stream ends only when closed. */
    tail_file: MethodBinding<ApiObject<'VM'>, [path: string, opts?: TailOpts], ApiObject<'Stream'>>;
    /** What can be read from an open File, from its current offset on (the File's own offset does not move): a regular file is followed as it grows; a pipe or device ends when its writers are gone. */
    fd_stream: MethodBinding<ApiObject<'VM'>, [fd_or_file: number | ApiObject<'File'>], ApiObject<'Stream'>>;
    /** The guest's serial console. */
    console: MethodBinding<ApiObject<'VM'>, [], ApiObject<'Console'>>;
    /** Wakes a guest that suspended itself to RAM (ACPI S3, `echo mem > /sys/power/state`) and returns once its agent answers again; does nothing to a guest that is awake. The VM must boot its kernel as a bzImage (`kernel_format = "bzimage"`): a PVH-booted guest resets instead of resuming, which raises. */
    wakeup: MethodBinding<ApiObject<'VM'>, [], void>;
    /** The guest's clock. */
    clock: MethodBinding<ApiObject<'VM'>, [], ApiObject<'Clock'>>;
    /** The VM's network interface on that bridge. */
    nic: MethodBinding<ApiObject<'VM'>, [bridge: string], ApiObject<'NIC'>>;
    /** A disk of the VM; an unknown id is an error naming the VM's disks. */
    disk: MethodBinding<ApiObject<'VM'>, [id: string], ApiObject<'Disk'>>;
    /** Adds a disk: hot-plugged into a booted VM (the guest sees a new /dev/vdX), or attached at boot, after the boot disks, to a VM not booted yet. */
    attach_disk: MethodBinding<ApiObject<'VM'>, [spec?: DiskSpec], ApiObject<'Disk'>>;
    /** Makes a system call inside the agent process (its credentials, its address space) and returns `{ret, result, errno, out_bufs}`. A failing call does not raise (`ret = -1`, `errno` set); a call the agent refuses (one that would end, stall or unmap the agent: docs/syscalls.md) raises. A call still blocked after `timeout` (default 10 s) is interrupted: `errno` 4 (EINTR). */
    syscall: MethodBinding<ApiObject<'VM'>, [nr: number, spec: SyscallSpec] | [nr: number, a1?: unknown, a2?: unknown, a3?: unknown, a4?: unknown, a5?: unknown, a6?: unknown], SyscallResult>;
    /** Starts the same call on a thread of the agent's own and returns at once; `handle:await()` returns the result. No timeout unless the spec gives one; an async call not awaited is interrupted at the end of the test (or file) that made it. */
    syscall_async: MethodBinding<ApiObject<'VM'>, [nr: number, spec: SyscallSpec] | [nr: number, a1?: unknown, a2?: unknown, a3?: unknown, a4?: unknown, a5?: unknown, a6?: unknown], ApiObject<'SyscallHandle'>>;
    /** ioctl on an open File: returns `{ret, result, out_data, out_bufs}`; a negative return raises with the OS error, as does an unknown or closed File. */
    ioctl: MethodBinding<ApiObject<'VM'>, [fd: number, cmd: number, data?: Uint8Array, opts?: IoctlOpts], IoctlResult>;
    /** The bytes at `addr` in the agent's memory; an unmapped range returns `nil, errno` (EFAULT, 14), and `len` over 64 MiB `nil, 22` (EINVAL). */
    read_mem: MethodBinding<ApiObject<'VM'>, [addr: number, len: number], unknown>;
  };
}

/** Disk: A disk of a VM (see docs/disks.md). Its sector calls act on the VM's own image file from the host side: the guest's page cache does not see them until it drops its caches. */
export interface DiskBinding extends ClassHooks<ApiObject<'Disk'>> {
  methods: {
    /** The disk's id. */
    id: MethodBinding<ApiObject<'Disk'>, [], string | Uint8Array>;
    /** The size of the image file in bytes (of the disk the guest sees, for a qcow2 root overlay). */
    size: MethodBinding<ApiObject<'Disk'>, [], number>;
    /** Reads `count` × 512 bytes from byte `sector` × 512 of the image; shorter at the end of the image. Raw images only (scratch, template, raw path disks). */
    read_sectors: MethodBinding<ApiObject<'Disk'>, [sector: number, count: number], string | Uint8Array>;
    /** Writes `data` at byte `sector` × 512 of the image. Raw images only. */
    write_sectors: MethodBinding<ApiObject<'Disk'>, [sector: number, data: Uint8Array], void>;
    /** Adds a fault to the test's own sector calls (modes accumulate); the guest never sees these. */
    fault_inject: MethodBinding<ApiObject<'Disk'>, [mode: string], void>;
    /** Removes every `fault_inject` mode. */
    clear_faults: MethodBinding<ApiObject<'Disk'>, [], void>;
    /** The active `fault_inject` modes, sorted. */
    active_faults: MethodBinding<ApiObject<'Disk'>, [], (string | Uint8Array)[]>;
    /** Unplugs the disk from a running guest (best effort) and makes later sector calls raise; never raises. */
    detach: MethodBinding<ApiObject<'Disk'>, [], void>;
    /** True once `detach()` was called. */
    is_detached: MethodBinding<ApiObject<'Disk'>, [], boolean>;
    /** Mediated only: every guest READ fails with EIO (flushes still succeed). */
    fail_reads: MethodBinding<ApiObject<'Disk'>, [], void>;
    /** Mediated only: every guest WRITE fails with EIO (flushes still succeed). */
    fail_writes: MethodBinding<ApiObject<'Disk'>, [], void>;
    /** Mediated only: counting guest commands (reads, writes, flushes) from now, the n-th and every later one fails with EIO; the only rule that fails a flush. */
    fail_after: MethodBinding<ApiObject<'Disk'>, [n: number], void>;
    /** Mediated only: a guest read or write overlapping the range fails with EIO. */
    fail_range: MethodBinding<ApiObject<'Disk'>, [sector: number, count: number], void>;
    /** Mediated only: slows the disk down. */
    delay: MethodBinding<ApiObject<'Disk'>, [ms: number], void>;
    /** Mediated only: the disk serves everything again, without a reboot. */
    clear_policy: MethodBinding<ApiObject<'Disk'>, [], void>;
    /** Mediated only: `{fail_reads, fail_writes, fail_after?, fail_range_sector?, fail_range_count?, delay_ms?}`, unset keys absent. */
    fault_policy: MethodBinding<ApiObject<'Disk'>, [], unknown>;
    /** Mediated only: drops every guest write not flushed yet; returns the bytes lost (the guest's page cache is untouched). */
    power_cut: MethodBinding<ApiObject<'Disk'>, [], number>;
  };
}

/** Snapshot: A thin handle over one snapshot file (see the Snapshot reference page). */
export interface SnapshotBinding extends ClassHooks<ApiObject<'Snapshot'>> {
  methods: {
    /** The on-disk path. */
    path: MethodBinding<ApiObject<'Snapshot'>, [], string | Uint8Array>;
    /** The file size in bytes; 0 once the file is gone. */
    size: MethodBinding<ApiObject<'Snapshot'>, [], number>;
    /** Best-effort delete; idempotent. */
    delete: MethodBinding<ApiObject<'Snapshot'>, [], void>;
  };
}

/** LabSnapshot: A thin handle over a directory with one snapshot file per VM plus `lab.json`. */
export interface LabSnapshotBinding extends ClassHooks<ApiObject<'LabSnapshot'>> {
  methods: {
    /** The on-disk directory. */
    path: MethodBinding<ApiObject<'LabSnapshot'>, [], string | Uint8Array>;
    /** Sum of the sizes of the files directly in the directory (not recursive); 0 once gone. */
    size: MethodBinding<ApiObject<'LabSnapshot'>, [], number>;
    /** Recursive, best-effort delete; idempotent. */
    delete: MethodBinding<ApiObject<'LabSnapshot'>, [], void>;
  };
}

/** RunResult: The outcome of `vm:run()` or `process:wait()`. */
export interface RunResultBinding extends ClassHooks<ApiObject<'RunResult'>> {
  fields: {
    /** Exit code; -1 when signalled, -2 when timed out. */
    exit_code: FieldBinding<ApiObject<'RunResult'>, number>;
    /** Everything the command wrote to stdout. */
    stdout: FieldBinding<ApiObject<'RunResult'>, string | Uint8Array>;
    /** Everything the command wrote to stderr. */
    stderr: FieldBinding<ApiObject<'RunResult'>, string | Uint8Array>;
    /** "exited", "signalled" or "timed_out". */
    status: FieldBinding<ApiObject<'RunResult'>, string | Uint8Array>;
    /** The POSIX signal number when signalled (9 for SIGKILL), else nil. */
    signal: FieldBinding<ApiObject<'RunResult'>, number | void>;
    /** The signal's name when signalled ("KILL"), else nil. */
    signal_name: FieldBinding<ApiObject<'RunResult'>, string | Uint8Array | void>;
    /** True when the command hit its timeout. */
    timed_out: FieldBinding<ApiObject<'RunResult'>, boolean>;
    /** Of `process:wait()`: true when the process wrote more than the 16 MiB of stdout (or of stderr) that Provium keeps for it; the rest was dropped. (`vm:run` raises past 64 MiB instead.) */
    truncated: FieldBinding<ApiObject<'RunResult'>, boolean>;
  };
  methods: {
    /** True when the command exited with code 0. */
    ok: MethodBinding<ApiObject<'RunResult'>, [], boolean>;
    /** Raises unless ok, showing the command, status, exit code, stdout and stderr; returns the result. */
    assert_ok: MethodBinding<ApiObject<'RunResult'>, [], ApiObject<'RunResult'>>;
  };
}

/** Process: A command started with `vm:run_async()`. */
export interface ProcessBinding extends ClassHooks<ApiObject<'Process'>> {
  methods: {
    /** Waits for the process to end, once. When `timeout` passes first, the process group is killed and the result says `timed_out` (exit code -2), with the output so far. */
    wait: MethodBinding<ApiObject<'Process'>, [timeout?: number], ApiObject<'RunResult'>>;
    /** Sends a signal to the process; one that has exited is no error. */
    kill: MethodBinding<ApiObject<'Process'>, [sig?: string | number], void>;
    /** Sends a signal to the process (the argument is required). */
    signal: MethodBinding<ApiObject<'Process'>, [sig: string | number], void>;
    /** The agent's id of the process (not its guest pid). */
    handle: MethodBinding<ApiObject<'Process'>, [], number>;
    /** Unless waited for: SIGTERM, up to 2 s to exit, then SIGKILL. Never raises (what the end of a scope calls). */
    close: MethodBinding<ApiObject<'Process'>, [], void>;
    /** The guest pid. */
    pid: MethodBinding<ApiObject<'Process'>, [], number>;
    /** "running", "exited", "signalled" or "timed_out". */
    status: MethodBinding<ApiObject<'Process'>, [], string | Uint8Array>;
    /** Writes to the process's stdin. */
    stdin_write: MethodBinding<ApiObject<'Process'>, [data: Uint8Array], void>;
    /** Closes the process's stdin. */
    close_stdin: MethodBinding<ApiObject<'Process'>, [], void>;
    /** A stream of the process's stdout. */
    stdout_stream: MethodBinding<ApiObject<'Process'>, [], ApiObject<'Stream'>>;
    /** A stream of the process's stderr. */
    stderr_stream: MethodBinding<ApiObject<'Process'>, [], ApiObject<'Stream'>>;
  };
}

/** File: An open guest file. */
export interface FileBinding extends ClassHooks<ApiObject<'File'>> {
  methods: {
    /** Reads up to `n` bytes ("" at end of file). */
    read: MethodBinding<ApiObject<'File'>, [n: number], string | Uint8Array>;
    /** Reads to the end of the file. */
    read_all: MethodBinding<ApiObject<'File'>, [], string | Uint8Array>;
    /** Writes at the current offset; returns the bytes written. */
    write: MethodBinding<ApiObject<'File'>, [data: Uint8Array], number>;
    /** Moves the offset; returns the new one. */
    seek: MethodBinding<ApiObject<'File'>, [off: number, whence?: string], number>;
    /** The current offset. */
    tell: MethodBinding<ApiObject<'File'>, [], number>;
    /** Closes the file. */
    close: MethodBinding<ApiObject<'File'>, [], void>;
    /** The File's id in the agent's open-file table (what `vm:fd_stream` and `vm:ioctl` take; not a guest kernel descriptor); 0 after `close`. */
    fd: MethodBinding<ApiObject<'File'>, [], number>;
    /** Follows the file's path from the File's current offset, as `vm:tail_file(path, {start = offset})` does. */
    tail_stream: MethodBinding<ApiObject<'File'>, [], ApiObject<'Stream'>>;
  };
}

/** Stream: Output of a process, of the console or of a tailed guest file, read as it arrives. Bytes a read leaves past a match come first in the next read. A closed stream reads as the end. Open streams block snapshots; each is closed automatically at the end of the test (or file) that opened it. */
export interface StreamBinding extends ClassHooks<ApiObject<'Stream'>> {
  methods: {
    /** The next chunk; nil at the end, after `close`, or when `timeout` passes with nothing to return. */
    next: MethodBinding<ApiObject<'Stream'>, [timeout?: number], string | Uint8Array | void>;
    /** Reads up to and including the first match. Raises on timeout ("timed out"), at the end ("EOF") and on a closed stream ("closed"). */
    read_until: MethodBinding<ApiObject<'Stream'>, [pattern: string, timeout?: number], string | Uint8Array>;
    /** Raises unless the pattern appears in time; returns the match. */
    expect: MethodBinding<ApiObject<'Stream'>, [pattern: string, timeout?: number], string | Uint8Array>;
    /** The chunks buffered so far and those that arrive within `timeout` (or until the end), as a list; never raises on a timeout. After `close`: an empty list. */
    drain: MethodBinding<ApiObject<'Stream'>, [timeout?: number], (string | Uint8Array)[]>;
    /** Closes the stream and drops what was left unread. Idempotent. */
    close: MethodBinding<ApiObject<'Stream'>, [], void>;
    /** True once the stream has ended or been closed and nothing unread is left. */
    eof: MethodBinding<ApiObject<'Stream'>, [], boolean>;
  };
}

/** Console: The guest's serial console. */
export interface ConsoleBinding extends ClassHooks<ApiObject<'Console'>> {
  methods: {
    /** A stream of console output from now on. */
    read: MethodBinding<ApiObject<'Console'>, [], ApiObject<'Stream'>>;
    /** All console output so far. */
    read_log: MethodBinding<ApiObject<'Console'>, [], string | Uint8Array>;
    /** Waits until the console output matches. */
    expect: MethodBinding<ApiObject<'Console'>, [pattern: string, timeout?: number], string | Uint8Array>;
    /** Writes to the console. */
    write: MethodBinding<ApiObject<'Console'>, [data: Uint8Array, opts?: ConsoleWriteOpts], void>;
    /** Does nothing; for generic clean-up code. */
    close: MethodBinding<ApiObject<'Console'>, [], void>;
  };
}

/** Clock: The guest's wall clock (seconds since the epoch, as a float). */
export interface ClockBinding extends ClassHooks<ApiObject<'Clock'>> {
  methods: {
    /** The guest time. */
    get: MethodBinding<ApiObject<'Clock'>, [], number>;
    /** Sets the guest time. */
    set: MethodBinding<ApiObject<'Clock'>, [t: number], void>;
    /** Moves the guest clock (read, add, set). */
    advance: MethodBinding<ApiObject<'Clock'>, [d: number | string], void>;
    /** The guest's CLOCK_REALTIME in nanoseconds since the epoch, as a float: Lua integers here are 32-bit, and a double holds today's nanosecond counts to the nearest 256 ns (docs/vms.md). */
    get_ns: MethodBinding<ApiObject<'Clock'>, [], number>;
    /** Sets the guest's CLOCK_REALTIME in nanoseconds. */
    set_ns: MethodBinding<ApiObject<'Clock'>, [ns: number | string], void>;
    /** The agent sleeps `d` inside the guest, then returns. */
    sleep: MethodBinding<ApiObject<'Clock'>, [d: number], void>;
  };
}

/** Bridge: A virtual L2 segment between VMs, with impairments applied outside the guests. */
export interface BridgeBinding extends ClassHooks<ApiObject<'Bridge'>> {
  methods: {
    /** The bridge name. */
    name: MethodBinding<ApiObject<'Bridge'>, [], string | Uint8Array>;
    /** Gives each VM a NIC on this bridge; VMs reach each other as `<vm>.<bridge>`. A list is checked whole before anything is attached. */
    attach: MethodBinding<ApiObject<'Bridge'>, [vms: ApiObject<'VM'> | string | (ApiObject<'VM'> | string)[]], void>;
    /** Disconnects a VM from the bridge. */
    detach: MethodBinding<ApiObject<'Bridge'>, [vm: ApiObject<'VM'> | string], void>;
    /** Drops traffic between two VMs. */
    partition: MethodBinding<ApiObject<'Bridge'>, [a: ApiObject<'VM'> | string | PartitionSpec, b?: ApiObject<'VM'> | string], void>;
    /** Undoes a partition. */
    unpartition: MethodBinding<ApiObject<'Bridge'>, [a: ApiObject<'VM'> | string | PartitionSpec, b?: ApiObject<'VM'> | string], void>;
    /** Sets the bridge-wide cut flag: every pair is cut, members attached later too, and `is_partitioned` is true for any two names. */
    partition_all: MethodBinding<ApiObject<'Bridge'>, [], void>;
    /** Clears the cut flag only: pair and one-way partitions and isolation stay. */
    restore_all: MethodBinding<ApiObject<'Bridge'>, [], void>;
    /** Adds latency to frames. */
    add_latency: MethodBinding<ApiObject<'Bridge'>, [ms: number | LatencySpec], void>;
    /** Drops frames at random (the original's percent). */
    drop_rate: MethodBinding<ApiObject<'Bridge'>, [pct: number | DropSpec], void>;
    /** Cuts a VM off from every other member. */
    isolate: MethodBinding<ApiObject<'Bridge'>, [vm: ApiObject<'VM'> | string], void>;
    /** Undoes isolate. */
    unisolate: MethodBinding<ApiObject<'Bridge'>, [vm: ApiObject<'VM'> | string], void>;
    /** True when the cut flag is set (partition_all) or the pair is partitioned both ways; ignores one-way rules and isolation. */
    is_partitioned: MethodBinding<ApiObject<'Bridge'>, [a: ApiObject<'VM'> | string, b: ApiObject<'VM'> | string], boolean>;
    /** True while the VM is isolated on this bridge. */
    is_isolated: MethodBinding<ApiObject<'Bridge'>, [vm: ApiObject<'VM'> | string], boolean>;
    /** Names of the members (attached VMs and graph-only names), sorted. */
    members: MethodBinding<ApiObject<'Bridge'>, [], (string | Uint8Array)[]>;
    /** The whole-bridge latency in milliseconds (0: none). */
    latency_ms: MethodBinding<ApiObject<'Bridge'>, [], number>;
    /** The whole-bridge drop rate in percent (0: none). */
    drop_rate_pct: MethodBinding<ApiObject<'Bridge'>, [], number>;
    /** Limits the rate of frames: a number limits each VM's link (every NIC receives at most `bps`); the table form limits frames from `from` to `to`. Frames are paced (each arrives once wholly sent at that rate) and wait in the bridge's queue; past its bound they are dropped. */
    bandwidth_limit: MethodBinding<ApiObject<'Bridge'>, [bps: number | BandwidthSpec], void>;
    /** The whole-bridge limit in bits per second (0: unlimited). */
    bandwidth_bps: MethodBinding<ApiObject<'Bridge'>, [], number>;
    /** Starts a packet capture of every frame entering the bridge. */
    capture: MethodBinding<ApiObject<'Bridge'>, [], ApiObject<'Capture'>>;
    /** The VM's NIC on this bridge; for a name that is no VM of the lab, a graph-only NIC (counters zero; disconnect/reconnect remove and restore the membership). */
    nic: MethodBinding<ApiObject<'Bridge'>, [vm: ApiObject<'VM'> | string], ApiObject<'NIC'>>;
    /** Clears pair and one-way partitions, the cut flag, latency, drop rates and bandwidth limits; attachments, isolation, routes and uplink stay. */
    reset: MethodBinding<ApiObject<'Bridge'>, [], void>;
    /** NAT from this bridge to the host's network and DNS (off by default): each VM on it gets one more NIC, on QEMU's user-mode network, with 10.0.2.15, a default route via 10.0.2.2 (the host, its 127.0.0.1 included) and nameserver 10.0.2.3. Nothing from outside reaches a guest; other bridges stay isolated. Kept in lab snapshots. */
    enable_uplink: MethodBinding<ApiObject<'Bridge'>, [], void>;
    /** Turns the uplink off: the VMs' uplink NIC is unplugged, their default route and nameserver go. */
    disable_uplink: MethodBinding<ApiObject<'Bridge'>, [], void>;
    /** Records that this bridge routes to those bridges (L3 reachability), as the original does: graph state only, no packet is routed; the first call of a file logs a notice saying so. Kept in lab snapshots. */
    route: MethodBinding<ApiObject<'Bridge'>, [to: ApiObject<'Bridge'> | string | (ApiObject<'Bridge'> | string)[]], void>;
    /** The names recorded by `route`, sorted. */
    routes: MethodBinding<ApiObject<'Bridge'>, [], (string | Uint8Array)[]>;
  };
}

/** NIC: A VM's network interface on one bridge. */
export interface NICBinding extends ClassHooks<ApiObject<'NIC'>> {
  methods: {
    /** Traffic counted by the bridge for this NIC. */
    counters: MethodBinding<ApiObject<'NIC'>, [], NicCounters>;
    /** Starts a packet capture of this NIC: the frames it sends and those delivered to it. Raises unless the VM is booted (boot it first). */
    capture: MethodBinding<ApiObject<'NIC'>, [], ApiObject<'Capture'>>;
    /** The VM's name. */
    vm_name: MethodBinding<ApiObject<'NIC'>, [], string | Uint8Array>;
    /** The bridge's name (not a handle). */
    bridge: MethodBinding<ApiObject<'NIC'>, [], string | Uint8Array>;
    /** A cable pull: the guest sees its link go down and the NIC leaves the bridge's forwarding (as `bridge:detach(vm)`); the NIC stays in the VM. Never raises on a NIC whose VM or bridge is gone. */
    disconnect: MethodBinding<ApiObject<'NIC'>, [], void>;
    /** Plugs the cable back in (as `bridge:attach(vm)`). Never raises on a NIC whose VM or bridge is gone. */
    reconnect: MethodBinding<ApiObject<'NIC'>, [], void>;
  };
}

/** Batch: The builder `b` that `vm:batch(fn)` passes to `fn`. Each method records one guest operation and returns nothing; once `fn` returns, the operations go to the agent in one request and run in order. A method called after that raises. */
export interface BatchBinding extends ClassHooks<ApiObject<'Batch'>> {
  methods: {
    /** Records `vm:run(cmd, opts)`. Its entry is `{ok = RunResult}` whatever the exit status (a nonzero exit is `ok`); `err` when the command could not start. */
    run: MethodBinding<ApiObject<'Batch'>, [cmd: string, opts?: RunOpts | string[]], void>;
    /** Records `vm:read_file(path)`; its entry is `{ok = bytes}`. */
    read_file: MethodBinding<ApiObject<'Batch'>, [path: string], void>;
    /** Records `vm:write_file(path, data)` (create or replace); its entry is `{}` on success. */
    write_file: MethodBinding<ApiObject<'Batch'>, [path: string, data: Uint8Array], void>;
    /** Records `vm:stat(path)`; its entry is `{ok = <vm:stat's table>}`. */
    stat: MethodBinding<ApiObject<'Batch'>, [path: string], void>;
    /** Records `vm:listdir(path)`; its entry is `{ok = <the entry list>}`. */
    listdir: MethodBinding<ApiObject<'Batch'>, [path: string], void>;
    /** Records a `mkdir`; its entry is `{}` on success. */
    mkdir: MethodBinding<ApiObject<'Batch'>, [path: string, opts?: boolean | BatchMkdirOpts], void>;
    /** Records `vm:unlink(path)`; its entry is `{}` on success. */
    unlink: MethodBinding<ApiObject<'Batch'>, [path: string], void>;
    /** Records `vm:rename(from, to)`; its entry is `{}` on success. */
    rename: MethodBinding<ApiObject<'Batch'>, [from: string, to: string], void>;
    /** Records `vm:syscall(nr, a1, ..., a6)` (integers only: the table form raises), run in the agent's main thread under the 10 s deadline. Its entry is `{ok = {ret, result, errno, out_bufs}}`; a failing call is still `ok`, with `ret = -1` and `errno` set. */
    syscall: MethodBinding<ApiObject<'Batch'>, [nr: number, a1?: unknown, a2?: unknown, a3?: unknown, a4?: unknown, a5?: unknown, a6?: unknown], void>;
  };
}

/** Capture: A packet capture of a bridge (`bridge:capture()`) or of one NIC (`nic:capture()`): a libpcap savefile as a byte stream (Ethernet, snaplen 65535), in chunks of at most 64 KiB not aligned to frames; every chunk from the first, joined, is a valid `.pcap` file. `frames()` reads the same stream as parsed frames. Closed automatically at the end of the test (or file) that opened it; a failing test keeps the pcap of each capture still open among its artifacts. */
export interface CaptureBinding extends ClassHooks<ApiObject<'Capture'>> {
  methods: {
    /** The next chunk (at most 64 KiB); nil on timeout, at the end or after `close`. */
    next: MethodBinding<ApiObject<'Capture'>, [timeout?: number], string | Uint8Array | void>;
    /** Every byte up to and including the first occurrence of `needle`; bytes after it are returned first by the next read. Raises on timeout ("timed out"), at the end ("EOF") and when closed ("closed"). */
    read_until: MethodBinding<ApiObject<'Capture'>, [needle: Uint8Array, timeout?: number], string | Uint8Array>;
    /** Like `read_until`, but returns the needle. */
    expect: MethodBinding<ApiObject<'Capture'>, [needle: Uint8Array, timeout?: number], string | Uint8Array>;
    /** The unread bytes (what a read left first) and those that arrive within `timeout` or until the end, as chunks of at most 64 KiB; never raises on a timeout. After `close`: an empty list. */
    drain: MethodBinding<ApiObject<'Capture'>, [timeout?: number], (string | Uint8Array)[]>;
    /** The whole frames unread now and those that arrive within `timeout` or until the end, parsed: `{time=, data=, len=}`. A frame partly read by `next`/`read_until`/`expect` is skipped; the file header is consumed too. */
    frames: MethodBinding<ApiObject<'Capture'>, [timeout?: number], CaptureFrame[]>;
    /** Frames lost because the capture was not read fast enough (at most 8 MiB wait unread; later frames are dropped whole and the stream stays a valid file). */
    dropped: MethodBinding<ApiObject<'Capture'>, [], number>;
    /** True once the capture has ended (its bridge or NIC is gone) or been closed and nothing unread remains. */
    eof: MethodBinding<ApiObject<'Capture'>, [], boolean>;
    /** Stops the capture and drops the unread bytes. Idempotent. */
    close: MethodBinding<ApiObject<'Capture'>, [], void>;
  };
}

/** Worker: A second agent process in the guest, from `vm:spawn_worker()`, with credentials of its own: what it runs acts as its uid, gid and groups. */
export interface WorkerBinding extends ClassHooks<ApiObject<'Worker'>> {
  methods: {
    /** Runs a command as a child of the worker (with its credentials) and waits for it; the same forms as `vm:run`. */
    run: MethodBinding<ApiObject<'Worker'>, [cmd: string, opts?: RunOpts | string[]], ApiObject<'RunResult'>>;
    /** Starts a command as a child of the worker. `wait`, `kill`, `pid`, `status` and the stdin calls go through the worker; its `stdout_stream`/`stderr_stream` raise. */
    run_async: MethodBinding<ApiObject<'Worker'>, [cmd: string, opts?: RunOpts | string[]], ApiObject<'Process'>>;
    /** Makes a system call inside the worker process (its credentials, its address space), with the same forms, result and refusals as `vm:syscall`: `getpid` gives the worker's pid. Raises once the worker was joined or died, as its other calls do. */
    syscall: MethodBinding<ApiObject<'Worker'>, [nr: number, spec: SyscallSpec] | [nr: number, a1?: unknown, a2?: unknown, a3?: unknown, a4?: unknown, a5?: unknown, a6?: unknown], SyscallResult>;
    /** Starts the same call on a thread of the worker's own and returns a handle at once, as `vm:syscall_async`; a call not awaited is interrupted at the end of the scope that made it. */
    syscall_async: MethodBinding<ApiObject<'Worker'>, [nr: number, spec: SyscallSpec] | [nr: number, a1?: unknown, a2?: unknown, a3?: unknown, a4?: unknown, a5?: unknown, a6?: unknown], ApiObject<'SyscallHandle'>>;
    /** Always raises: a File lives in the main agent; open it with `vm:open_file`, or inside the worker with `worker:syscall(openat, ...)`. */
    open_file: MethodBinding<ApiObject<'Worker'>, [path: string, mode: string | OpenMode], ApiObject<'File'>>;
    /** Signals the worker process itself. */
    kill: MethodBinding<ApiObject<'Worker'>, [sig?: string | number], void>;
    /** Ends the worker (closes its channel), waits for it and returns its exit status: the code, or 128 + the signal number. Terminal: every later call on the worker raises. */
    join: MethodBinding<ApiObject<'Worker'>, [], number>;
    /** The agent's id of the worker (positive; for logs). */
    handle: MethodBinding<ApiObject<'Worker'>, [], number>;
    /** SIGTERM, then join. Never raises; a second call does nothing. What the end of a scope calls. */
    close: MethodBinding<ApiObject<'Worker'>, [], void>;
  };
}

/** SyscallHandle: A call started with `vm:syscall_async()` or `worker:syscall_async()`. */
export interface SyscallHandleBinding extends ClassHooks<ApiObject<'SyscallHandle'>> {
  methods: {
    /** Waits for the call to return and gives its result, once: a second `await` raises ("already awaited"). */
    await: MethodBinding<ApiObject<'SyscallHandle'>, [], SyscallResult>;
  };
}

/** Every class and global the runtime exposes, each with its implementation. */
export interface ApiBindings {
  classes: {
    TestContext: TestContextBinding;
    Lab: LabBinding;
    VM: VMBinding;
    Disk: DiskBinding;
    Snapshot: SnapshotBinding;
    LabSnapshot: LabSnapshotBinding;
    RunResult: RunResultBinding;
    Process: ProcessBinding;
    File: FileBinding;
    Stream: StreamBinding;
    Console: ConsoleBinding;
    Clock: ClockBinding;
    Bridge: BridgeBinding;
    NIC: NICBinding;
    Batch: BatchBinding;
    Capture: CaptureBinding;
    Worker: WorkerBinding;
    SyscallHandle: SyscallHandleBinding;
  };
  globals: {
    /** The file's root lab: every Lab method works on it, plus the file settings `reset_between_tests` and `timeout`. */
    provium: GlobalValueBinding<ApiObject<'Lab'>>;
    /** Registers a test; bodies run later, in file order. */
    test: GlobalFunctionBinding<[name: string, meta: TestMeta | undefined, fn: unknown] | [name: string, fn: unknown], void>;
    /** Marks the whole file skipped. */
    todo: GlobalFunctionBinding<[reason?: string], void>;
    /** Polls a predicate until it returns a truthy value. */
    wait_until: GlobalFunctionBinding<[pred: unknown, opts?: WaitUntilOpts], unknown>;
  };
}
