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

/** Resources of a VM. */
export interface VmOpts {
  /** Guest RAM. */
  memory?: number;
  /** Virtual CPUs. */
  cpus?: number;
}

/** Options of `vm:boot()`. */
export interface BootOpts {
  /** Replaces the profile's kernel command line (Provium's own words — console=ttyS0, panic=-1, the agent's rdinit= and the hostname — still follow it). */
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

/** A disk of `vm:boot{disks=}` or `vm:attach_disk()`: exactly one source. */
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
  /** The original's `attach_disk` spelling of `scratch`. */
  size?: number;
  /** The original's `attach_disk` spelling of `path`. */
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

/** Result of `vm:stat()`. */
export interface StatResult {
  /** Size in bytes. */
  size: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
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
  };
  methods: {
    /** Creates a VM in state `created` (no resources are taken until boot). A name already used is an error. */
    vm: MethodBinding<ApiObject<'Lab'>, [name: string, profile: string, opts?: VmOpts] | [name: string], ApiObject<'VM'>>;
    /** Creates a virtual L2 bridge. */
    bridge: MethodBinding<ApiObject<'Lab'>, [name: string, opts: BridgeOpts] | [name: string], ApiObject<'Bridge'>>;
    /** Creates a sub-lab. */
    lab: MethodBinding<ApiObject<'Lab'>, [name?: string], ApiObject<'Lab'>>;
    /** Adds a VM, bridge or lab to this lab. */
    include: MethodBinding<ApiObject<'Lab'>, [member: ApiObject<'VM'> | ApiObject<'Bridge'> | ApiObject<'Lab'>], void>;
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
    /** Boots every member VM with ONE resource acquisition, in parallel; returns the lab. */
    boot: MethodBinding<ApiObject<'Lab'>, [], ApiObject<'Lab'>>;
    /** Shuts down every VM of the tree. */
    shutdown: MethodBinding<ApiObject<'Lab'>, [], void>;
    /** Pauses every VM of the tree. */
    pause: MethodBinding<ApiObject<'Lab'>, [], void>;
    /** Resumes every VM of the tree. */
    resume: MethodBinding<ApiObject<'Lab'>, [], void>;
    /** Snapshots every VM plus bridges and impairments into a directory. */
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
    /** "created", "booted", "paused", "shutdown", or "dead" when QEMU died (a crash, a kernel panic, a guest reset). */
    state: MethodBinding<ApiObject<'VM'>, [], string | Uint8Array>;
    /** An integer id of the running VM (booted or paused; nil otherwise). Without vhost-vsock it is its QEMU's process id, unique on the host while it runs. */
    cid: MethodBinding<ApiObject<'VM'>, [], number | void>;
    /** Files of `vm:open_file` not closed yet. */
    open_file_count: MethodBinding<ApiObject<'VM'>, [], number>;
    /** Streams of this VM that are open (process output, `console:read()`). */
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
    /** Reads a guest file (binary-safe). */
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
    /** Opens a guest file. */
    open_file: MethodBinding<ApiObject<'VM'>, [path: string, mode: string | OpenMode], ApiObject<'File'>>;
    /** The guest's serial console. */
    console: MethodBinding<ApiObject<'VM'>, [], ApiObject<'Console'>>;
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
    /** The File's id in the agent's open-file table (what `vm:ioctl` takes), not a guest descriptor; 0 once closed. */
    fd: MethodBinding<ApiObject<'File'>, [], number>;
  };
}

/** Stream: Output of a process or of the console, read as it arrives. Closed automatically at the end of the test (or file) that opened it. */
export interface StreamBinding extends ClassHooks<ApiObject<'Stream'>> {
  methods: {
    /** The next chunk; nil at end of stream. */
    next: MethodBinding<ApiObject<'Stream'>, [timeout?: number], string | Uint8Array | void>;
    /** Reads up to and including the first match. */
    read_until: MethodBinding<ApiObject<'Stream'>, [pattern: string, timeout?: number], string | Uint8Array>;
    /** Raises unless the pattern appears in time; returns the match. */
    expect: MethodBinding<ApiObject<'Stream'>, [pattern: string, timeout?: number], string | Uint8Array>;
    /** The chunks buffered so far and those that arrive within `timeout` (or until the end), as a list; never raises on a timeout. */
    drain: MethodBinding<ApiObject<'Stream'>, [timeout?: number], (string | Uint8Array)[]>;
    /** Closes the stream. */
    close: MethodBinding<ApiObject<'Stream'>, [], void>;
    /** True once the stream has ended. */
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
    /** Partitions every pair. */
    partition_all: MethodBinding<ApiObject<'Bridge'>, [], void>;
    /** Removes every partition. */
    restore_all: MethodBinding<ApiObject<'Bridge'>, [], void>;
    /** Adds latency to frames. */
    add_latency: MethodBinding<ApiObject<'Bridge'>, [ms: number | LatencySpec], void>;
    /** Drops frames at random (the original's percent). */
    drop_rate: MethodBinding<ApiObject<'Bridge'>, [pct: number | DropSpec], void>;
    /** Cuts a VM off from every other member. */
    isolate: MethodBinding<ApiObject<'Bridge'>, [vm: ApiObject<'VM'> | string], void>;
    /** Undoes isolate. */
    unisolate: MethodBinding<ApiObject<'Bridge'>, [vm: ApiObject<'VM'> | string], void>;
    /** True when traffic between the two is cut both ways (a partition of the pair, or partition_all); ignores one-way rules and isolation. */
    is_partitioned: MethodBinding<ApiObject<'Bridge'>, [a: ApiObject<'VM'> | string, b: ApiObject<'VM'> | string], boolean>;
    /** True while the VM is isolated on this bridge. */
    is_isolated: MethodBinding<ApiObject<'Bridge'>, [vm: ApiObject<'VM'> | string], boolean>;
    /** Names of the VMs attached to the bridge, sorted. */
    members: MethodBinding<ApiObject<'Bridge'>, [], (string | Uint8Array)[]>;
    /** The whole-bridge latency in milliseconds (0: none). */
    latency_ms: MethodBinding<ApiObject<'Bridge'>, [], number>;
    /** The whole-bridge drop rate in percent (0: none). */
    drop_rate_pct: MethodBinding<ApiObject<'Bridge'>, [], number>;
    /** The VM's NIC on this bridge. */
    nic: MethodBinding<ApiObject<'Bridge'>, [vm: ApiObject<'VM'> | string], ApiObject<'NIC'>>;
    /** Removes every impairment. */
    reset: MethodBinding<ApiObject<'Bridge'>, [], void>;
    /** NAT from this bridge to the host's network and DNS (off by default): each VM on it gets one more NIC, on QEMU's user-mode network, with 10.0.2.15, a default route via 10.0.2.2 (the host, its 127.0.0.1 included) and nameserver 10.0.2.3. Nothing from outside reaches a guest; other bridges stay isolated. Kept in lab snapshots. */
    enable_uplink: MethodBinding<ApiObject<'Bridge'>, [], void>;
    /** Turns the uplink off: the VMs' uplink NIC is unplugged, their default route and nameserver go. */
    disable_uplink: MethodBinding<ApiObject<'Bridge'>, [], void>;
    /** Records that this bridge routes to those bridges (L3 reachability), as the original does: graph state only, no packet is routed; the first call of a file logs a notice saying so. */
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

/** SyscallHandle: A call started with `vm:syscall_async()`. */
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
