/**
 * The wire contract between the host and the in-guest agent (packages/agent).
 * No runtime dependencies: constants and types only. docs/agent.md describes
 * the protocol in prose; the C side mirrors these names in packages/agent/c/.
 *
 * Framing: FRAME_MAGIC (4 bytes) + payload length (u32 big-endian) + payload.
 * A payload is one value of the Provium value encoding (see ValueTag): always a
 * map whose key `t` says what the message is.
 */

/** Bumped on every incompatible change of frames, messages or ops. */
export const PROTOCOL_VERSION = 2;

/** "PVAG": starts every frame; the receiver resynchronises on it after garbage. */
export const FRAME_MAGIC = Uint8Array.of(0x50, 0x56, 0x41, 0x47);
export const FRAME_HEADER_BYTES = 8;
/** Largest payload either side accepts; bigger frames count as garbage. */
export const MAX_FRAME_BYTES = 128 * 1024 * 1024;
/** Largest stdout/stderr (each) an `exec` collects, and the largest `read_file`/`read`. */
export const MAX_COLLECT_BYTES = 64 * 1024 * 1024;

/** The virtio-serial port name the agent looks for by default (`--port`). */
export const DEFAULT_AGENT_PORT_NAME = 'org.provium.agent';
/** Where images install the agent binary in the guest. */
export const AGENT_GUEST_PATH = '/sbin/provium-agent';
/** The agent's log file in the guest (returned by the `log` op). */
export const AGENT_GUEST_LOG_PATH = '/tmp/provium-agent.log';

/** Type tags of the value encoding. Lengths and counts are u32 big-endian. */
export const ValueTag = {
  nil: 0x00,
  false: 0x01,
  true: 0x02,
  /** int64 big-endian (JS side: only safe integers). */
  int: 0x03,
  /** u32 length + raw bytes. */
  bytes: 0x04,
  /** u32 length + UTF-8. */
  string: 0x05,
  /** u32 count + values. */
  array: 0x06,
  /** u32 count + (u32 key length + key bytes + value) pairs. */
  map: 0x07,
} as const;

export const AGENT_OPS = [
  'ping',
  'exec',
  'spawn',
  'proc_write',
  'proc_close_stdin',
  'proc_kill',
  'read_file',
  'write_file',
  'stat',
  'listdir',
  'mkdir',
  'unlink',
  'rename',
  'open',
  'read',
  'write',
  'seek',
  'tell',
  'close',
  'clock_get',
  'clock_set',
  'log',
  'batch',
  'tail_open',
  'tail_fd',
  'tail_close',
  'worker_spawn',
  'worker_kill',
  'worker_join',
  'syscall',
  'syscall_cancel',
  'ioctl',
  'read_mem',
] as const;
export type AgentOp = (typeof AGENT_OPS)[number];

/** The ops a `batch` may hold (a `syscall` without `async`). */
export const BATCH_OPS = ['exec', 'read_file', 'write_file', 'stat', 'listdir', 'mkdir', 'unlink', 'rename', 'syscall'] as const;
export type BatchOp = (typeof BATCH_OPS)[number];
/** One op of a `batch`: the fields of its own request, and its name as `op`. */
export type BatchOpRequest = { [O in BatchOp]: { op: O } & AgentRequests[O] }[BatchOp];

/** Signal names the agent accepts (case-insensitive, optional "SIG" prefix) and reports. */
export const SIGNAL_NAMES = [
  'hup', 'int', 'quit', 'ill', 'trap', 'abrt', 'bus', 'fpe', 'kill', 'usr1', 'segv', 'usr2',
  'pipe', 'alrm', 'term', 'stkflt', 'chld', 'cont', 'stop', 'tstp', 'ttin', 'ttou', 'urg',
  'xcpu', 'xfsz', 'vtalrm', 'prof', 'winch', 'io', 'pwr', 'sys',
] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

export type EntryType = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'block_device' | 'char_device' | 'other';
export type ExitStatus = 'exited' | 'signalled' | 'timed_out';
export type SeekWhence = 'set' | 'cur' | 'end';
/** fopen-style modes; a trailing or embedded "b" is accepted and ignored. */
/** An fopen mode, or "=" and flag letters: r read, w write, a append, c create, t truncate, x exclusive. */
export type OpenMode = 'r' | 'w' | 'a' | 'r+' | 'w+' | 'a+' | `=${string}`;

// ---------------------------------------------------------------- messages

/** Host → agent, first frame on every connection, repeated until answered. */
export interface HelloMessage {
  t: 'hello';
  version: number;
  /** Random per host client; the agent echoes it so stale replies are recognisable. */
  nonce: number;
}

/** Agent → host answer to a hello. `ok` is false when the versions differ. */
export interface HelloReply {
  t: 'hello';
  ok: boolean;
  version: number;
  nonce: number;
  agent: 'provium-agent';
  pid: number;
  message?: string;
}

/**
 * `worker`: the request runs in that worker (a second agent process, see
 * `worker_spawn`) instead of the agent itself; every op but the worker_* ones
 * can be relayed. What the worker sends back carries the same `worker` key.
 */
export type AgentRequestMessage<O extends AgentOp = AgentOp> = { t: 'req'; id: number; op: O; worker?: number } & AgentRequests[O];

export interface AgentErrorBody {
  /** errno name ("ENOENT") or "EPROTO"/"EINVAL" for protocol misuse. */
  code: string;
  errno: number;
  /** strerror text or a description of the protocol problem. */
  message: string;
  path?: string;
  /** Second path of a two-path op (rename). */
  path2?: string;
}

export type AgentResponseMessage<O extends AgentOp = AgentOp> =
  | ({ t: 'res'; id: number; ok: true } & AgentResults[O])
  | { t: 'res'; id: number; ok: false; error: AgentErrorBody };

/**
 * Asynchronous events of spawned processes, of tails and of workers. A process
 * emits data, then one eof per stream, then exit; `worker` is set on those of a
 * worker's processes. A tail emits tail_data until it is closed; tail_end only
 * when the agent cannot read on (a pipe's writers all closed, a read error in
 * `message`). `worker_exit`: a worker ended (its requests still pending were
 * answered with errors): it died, and later requests fail until joined; or it
 * was joined, and the join's answer follows.
 */
export type AgentEventMessage =
  | { t: 'ev'; ev: 'data'; proc: number; worker?: number; stream: 'stdout' | 'stderr'; data: Uint8Array }
  | { t: 'ev'; ev: 'eof'; proc: number; worker?: number; stream: 'stdout' | 'stderr' }
  | ({ t: 'ev'; ev: 'exit'; proc: number; worker?: number } & ProcessExit)
  | { t: 'ev'; ev: 'tail_data'; tail: number; data: Uint8Array }
  | { t: 'ev'; ev: 'tail_end'; tail: number; message?: string }
  | { t: 'ev'; ev: 'worker_exit'; worker: number; exit_status: number };

/** A frame the agent could not use (garbage, oversized, undecodable); it resynchronises and carries on. */
export interface AgentNoticeMessage {
  t: 'notice';
  message: string;
}

export type AgentToHostMessage = HelloReply | AgentResponseMessage | AgentEventMessage | AgentNoticeMessage;

// ---------------------------------------------------------------- ops

/** Either `argv` (execvp, PATH lookup) or `cmd` (`/bin/sh -c cmd sh args...`). */
export interface CommandSpec {
  argv?: string[];
  cmd?: string;
  /** Positional parameters `$1..` for `cmd`. */
  args?: string[];
  /** Added to (overriding) the agent's environment. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface ProcessExit {
  status: ExitStatus;
  /** Exit code; -1 when signalled, -2 when timed out. */
  exit_code: number;
  /** Signal name (see SIGNAL_NAMES) when signalled or timed out, else nil. */
  signal: string | null;
}

export interface Stat {
  size: number;
  mtime_sec: number;
  mtime_nsec: number;
  /** Permission bits (mode & 0o7777). */
  perm: number;
  entry_type: EntryType;
  uid: number;
  gid: number;
}

export interface DirEntry {
  name: string;
  entry_type: EntryType;
}

/**
 * Where an exec's time went in the agent, in ns of its monotonic clock, when
 * the request asked for it (`trace`: benchmarks). An agent that predates it
 * leaves it out.
 */
export interface ExecAgentTrace {
  /** Request decoded → vfork: argv, environment, pipes. */
  prep_ns: number;
  /** vfork → the child has exec'd. */
  spawn_ns: number;
  /** → the agent takes up the child's exit (the command ran, the agent woke). */
  wait_ns: number;
  /** → output collected and the answer encoded. */
  reply_ns: number;
}

/**
 * A buffer of a `syscall` or `ioctl`: bytes copied into the agent, or a size
 * (that many zero bytes). Each sits right before an inaccessible page, so a
 * kernel that writes past its end fails with EFAULT.
 */
export type SyscallBuffer = Uint8Array | number;

/** `nested` entry: the address of `bufs[child]` is written into `bufs[parent]` at byte `offset` (1-based indexes). */
export interface SyscallNested {
  parent: number;
  child: number;
  offset: number;
}

export interface SyscallRequest {
  nr: number;
  /** Up to six int64 arguments, little-endian (exact beyond 2^53, which numbers on the wire are not). */
  args?: Uint8Array;
  bufs?: SyscallBuffer[];
  /** `ptrs[i]`: the argument slot (0..5) that receives the address of `bufs[i]`. */
  ptrs?: number[];
  nested?: SyscallNested[];
  /** Interrupt the call (EINTR) after this long. Default 10 000 for a sync call, none with `async`. */
  timeout_ms?: number;
  /** Run on a thread of its own; the answer comes when the call returns. */
  async?: boolean;
  /** The host's id of an async call, for `syscall_cancel`. */
  call?: number;
}

export interface AgentRequests {
  ping: Record<string, never>;
  exec: CommandSpec & { stdin?: Uint8Array; timeout_ms?: number; trace?: boolean };
  spawn: CommandSpec;
  proc_write: { proc: number; data: Uint8Array };
  proc_close_stdin: { proc: number };
  proc_kill: { proc: number; signal: string };
  read_file: { path: string };
  write_file: { path: string; data: Uint8Array; mode?: number };
  stat: { path: string };
  listdir: { path: string };
  /** An explicit `mode` applies exactly to the directory it creates (past the umask); parents get 0755 less the umask. */
  mkdir: { path: string; parents?: boolean; mode?: number };
  unlink: { path: string };
  rename: { from: string; to: string };
  open: { path: string; mode: OpenMode; perm?: number };
  read: { handle: number; size: number };
  write: { handle: number; data: Uint8Array };
  seek: { handle: number; offset: number; whence: SeekWhence };
  tell: { handle: number };
  close: { handle: number };
  clock_get: Record<string, never>;
  clock_set: { sec: number; nsec: number };
  log: Record<string, never>;
  /** Runs the ops in order, each after the previous one ended (an exec at its exit); a failing op does not stop the rest. */
  batch: { ops: BatchOpRequest[] };
  /**
   * Follows `path` from byte `offset`, or `offset` bytes before its end with
   * `from_end` (clamped to 0); an offset past the end starts at the end. A
   * truncated file is read on from its start; when the path names a new file
   * (rotation) and the old one is read to its end, the new one is followed
   * from its start.
   */
  tail_open: { path: string; offset: number; from_end?: boolean };
  /** What can be read from open handle `handle`, from its offset on (the handle's own offset does not move). */
  tail_fd: { handle: number };
  /** Stops a tail; one that already ended is not an error. */
  tail_close: { tail: number };
  /**
   * Starts a worker: the agent re-executed with these credentials (setgroups,
   * setgid, setuid), directory and environment. `gid` defaults to the uid's
   * /etc/passwd group (else the uid's number), `groups` to the user's
   * /etc/group memberships (else none); without `uid` the agent's own.
   */
  worker_spawn: {
    uid?: number;
    gid?: number;
    groups?: number[];
    /** Capability names ("net_admin"): exactly these are kept, through the setuid and every exec (bounding and ambient sets). */
    caps?: string[];
    /** Namespaces of its own: "net", "mount" (made private, as unshare(1) does), "uts", "ipc", "cgroup". */
    unshare?: string[];
    cwd?: string;
    env?: Record<string, string>;
  };
  /** Signals the worker process itself. */
  worker_kill: { worker: number; signal: string };
  /** Closes the worker's channel and answers once it exited (or at once if it died before). */
  worker_join: { worker: number };
  syscall: SyscallRequest;
  syscall_cancel: { call: number };
  /** `handle`: an `open` handle. `ptr_offsets[i]`: where in `data` the address of `bufs[i]` goes. */
  ioctl: { handle: number; cmd: number; data?: Uint8Array; bufs?: SyscallBuffer[]; ptr_offsets?: number[] };
  /** `addr`: a little-endian uint64. `len` up to MAX_READ_MEM_BYTES. */
  read_mem: { addr: Uint8Array; len: number };
}

/** Largest `read_mem`. */
export const MAX_READ_MEM_BYTES = 64 * 1024 * 1024;

export interface AgentResults {
  ping: Record<string, never>;
  exec: ProcessExit & { stdout: Uint8Array; stderr: Uint8Array; trace?: ExecAgentTrace };
  spawn: { proc: number; pid: number };
  proc_write: Record<string, never>;
  proc_close_stdin: Record<string, never>;
  /** `delivered` is false when the process had already exited. */
  proc_kill: { delivered: boolean };
  read_file: { data: Uint8Array };
  write_file: Record<string, never>;
  stat: Stat;
  listdir: { entries: DirEntry[] };
  mkdir: Record<string, never>;
  unlink: Record<string, never>;
  rename: Record<string, never>;
  open: { handle: number };
  /** Empty at end of file. */
  read: { data: Uint8Array };
  write: { written: number };
  seek: { offset: number };
  tell: { offset: number };
  close: Record<string, never>;
  clock_get: { sec: number; nsec: number };
  clock_set: Record<string, never>;
  /** The agent's log file (its last MiB). */
  log: { data: Uint8Array };
  /**
   * One answer per op, in order: each the response the op gets when sent
   * alone (its `id` is the agent's own, negative). An answer that would take
   * the whole past MAX_FRAME_BYTES is an E2BIG error instead.
   */
  batch: { results: AgentResponseMessage<BatchOp>[] };
  /** `offset`: where the tail starts. */
  tail_open: { tail: number; offset: number };
  tail_fd: { tail: number; offset: number };
  tail_close: Record<string, never>;
  worker_spawn: { worker: number; pid: number };
  /** `delivered` is false when the worker had already exited. */
  worker_kill: { delivered: boolean };
  /** The exit code, or 128 + the signal number. */
  worker_join: { exit_status: number };
  /** `ret`: the raw return value, an int64 little-endian; `errno` 0 unless `ret` is -1. `out_bufs`: the buffers after the call. */
  syscall: { ret: Uint8Array; errno: number; out_bufs: Uint8Array[] };
  /** False when no call of that id was in flight. */
  syscall_cancel: { cancelled: boolean };
  ioctl: { ret: number; out_data: Uint8Array; out_bufs: Uint8Array[] };
  read_mem: { data: Uint8Array };
}
