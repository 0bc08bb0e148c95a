import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, statSync, statfsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { basename, join } from 'node:path';
import { buildQemuArgs } from './cmdline.js';
import { QemuConsole, tailLines } from './console.js';
import { QemuExitedError } from './errors.js';
import { detectAccel, findExecutable, QEMU_BINARY, type Accel } from './host.js';
import { killGroup, procStat } from './procfs.js';
import { QmpClient } from './qmp.js';
import { QemuProcess, settleWithin, type ExitState, type QemuExit } from './process.js';
import { trackQemu, untrackQemu } from './registry.js';
import {
  copyArtifacts, createRunDir, defaultRuntimeRoot, ensureRuntimeRoot, ownerIdentity, removeRunDir,
  sweepStaleRunDirs, SHM_DIR, writeRecord, type RunDirRecord,
} from './rundir.js';

export interface LaunchOptions {
  /** VM name: shown in errors, in `ps` (process=provium:<name>) and in the run dir name. */
  name: string;
  memoryMiB: number;
  /** Default 1. */
  cpus?: number;
  /** Without a kernel SeaBIOS runs and finds nothing to boot (or boots a disk from extraArgs). */
  kernel?: string;
  initrd?: string;
  append?: string;
  /** Default: detectAccel(). */
  accel?: Accel;
  /**
   * Guest RAM file. Default: a new file on /dev/shm when it has room, else
   * `<run dir>/ram`, mapped shared; deleted with the run dir. A given `path`
   * belongs to the caller and is never deleted (restore from a template RAM
   * file with `share: false`: the guest's writes stay private).
   */
  ram?: { path?: string; share?: boolean };
  /** Start with `-incoming defer` (then `migrate-incoming` over QMP). */
  incoming?: boolean;
  /** Start with the vCPUs stopped (`-S`); resume() starts them. */
  startPaused?: boolean;
  /** Extra QEMU arguments (netdevs, NICs, drives), appended to the launch line. */
  extraArgs?: readonly string[];
  /** Parent of the run dir. Default: defaultRuntimeRoot(). */
  runtimeRoot?: string;
  /** Leave the run dir (sockets, logs, RAM file) after QEMU exits, until this provium process is gone. */
  keep?: boolean;
  /** Copy console.log (and QEMU's stderr log, if not empty) here as `<name>.console.log` / `<name>.qemu.log` when QEMU exits. */
  artifactsDir?: string;
  /** Default qemu-system-x86_64 from PATH. */
  qemuBinary?: string;
  /** Until QEMU has connected QMP and console and answered the handshake. Default 30 s. */
  launchTimeoutMs?: number;
  /** Per QMP command and per awaited event. Default 30 s. */
  opTimeoutMs?: number;
  /** Console lines carried by exit errors. Default 20. */
  consoleTailLines?: number;
}

const MiB = 1024 * 1024;
const sweptRoots = new Set<string>();

/**
 * Starts QEMU in its own process group under `setpriv --pdeathsig KILL`,
 * connects QMP and the console, and resolves once QMP is ready. On failure
 * nothing is left behind and the error carries QEMU's stderr and console tail.
 */
export async function launchQemu(opts: LaunchOptions): Promise<QemuProcess> {
  validate(opts);
  const qemuBinary = findExecutable(opts.qemuBinary ?? QEMU_BINARY);
  const setpriv = findExecutable('setpriv');
  const accel = opts.accel ?? detectAccel();
  const launchTimeoutMs = opts.launchTimeoutMs ?? 30_000;
  const opTimeoutMs = opts.opTimeoutMs ?? 30_000;
  const tailCount = opts.consoleTailLines ?? 20;

  const root = opts.runtimeRoot ?? defaultRuntimeRoot();
  ensureRuntimeRoot(root);
  if (!sweptRoots.has(root)) {
    sweepStaleRunDirs(root);
    sweptRoots.add(root);
  }
  const runDir = createRunDir(root, opts.name);
  const paths = {
    qmp: join(runDir, 'qmp.sock'),
    console: join(runDir, 'console.sock'),
    agent: join(runDir, 'agent.sock'),
    consoleLog: join(runDir, 'console.log'),
    qemuLog: join(runDir, 'qemu.log'),
  };
  const ram = opts.ram?.path
    ? { path: opts.ram.path, owned: false }
    : { path: defaultRamPath(runDir, opts.memoryMiB), owned: true };
  const record: RunDirRecord = {
    version: 1,
    name: opts.name,
    owner: ownerIdentity(),
    ram,
    keep: opts.keep ?? false,
    ...(opts.artifactsDir ? { artifactsDir: opts.artifactsDir } : {}),
  };
  // Written before QEMU exists, so a sweep can always attribute the dir and its RAM file.
  writeRecord(runDir, record);

  const args = buildQemuArgs({
    name: opts.name,
    accel,
    memoryMiB: opts.memoryMiB,
    cpus: opts.cpus ?? 1,
    ram: { path: ram.path, share: opts.ram?.share ?? true },
    sockets: { qmp: paths.qmp, console: paths.console, agent: paths.agent },
    ...(opts.kernel ? { kernel: { path: opts.kernel, initrd: opts.initrd, append: opts.append } } : {}),
    incoming: opts.incoming ?? false,
    startPaused: opts.startPaused ?? false,
    extraArgs: opts.extraArgs ?? [],
  });

  // QEMU connects to QMP and console as a client: listening first means no
  // wait for its sockets to appear and no console output lost before we attach.
  let servers: Server[] = [];
  let child: ChildProcess | undefined;
  try {
    const qmpServer = await listen(paths.qmp);
    servers.push(qmpServer);
    const consoleServer = await listen(paths.console);
    servers.push(consoleServer);
    const qmpConn = acceptOne(qmpServer);
    const consoleConn = acceptOne(consoleServer);

    child = await spawnQemu(setpriv, qemuBinary, args, paths.qemuLog);
    const pid = child.pid!;
    const start = procStat(pid)?.startTime ?? '';
    record.qemu = { pid, start };
    writeRecord(runDir, record);
    trackQemu(pid, runDir);

    const exitState: ExitState = { expected: false, shutdownReason: undefined };
    let qmp: QmpClient | undefined;
    let serial: QemuConsole | undefined;
    const exited: Promise<QemuExit> = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child!.once('exit', (code, signal) => resolve({ code, signal })),
    ).then(async ({ code, signal }) => {
      untrackQemu(pid);
      if (serial) await settleWithin(serial.ended, opTimeoutMs); // the last output may still be in flight
      const error = new QemuExitedError(
        opts.name, code, signal, exitState.shutdownReason,
        tailLines(paths.consoleLog, tailCount), tailLines(paths.qemuLog, 10),
      );
      qmp?.close(error);
      serial?.close();
      for (const s of servers) s.close();
      let artifacts: string[] = [];
      try {
        artifacts = copyArtifacts(runDir, record);
      } catch {
        // a failed copy must not keep the run dir around
      }
      if (!record.keep) removeRunDir(runDir, record);
      return {
        code, signal, expected: exitState.expected, shutdownReason: exitState.shutdownReason,
        consoleTail: [...error.consoleTail], stderrTail: [...error.stderrTail], artifacts, error,
      };
    });

    const connected = await raceExit(
      Promise.all([qmpConn, consoleConn]), exited, launchTimeoutMs,
      `QEMU of VM "${opts.name}" did not connect its QMP and console sockets within ${launchTimeoutMs} ms`,
    );
    for (const s of servers) s.close();
    servers = [];
    serial = new QemuConsole(connected[1], paths.consoleLog);
    qmp = await raceExit(
      QmpClient.connect(connected[0], {
        timeoutMs: opTimeoutMs,
        disconnectError: () => disconnectError(opts.name, pid, exited, opTimeoutMs),
      }),
      exited, launchTimeoutMs, `QEMU of VM "${opts.name}" did not complete the QMP handshake within ${launchTimeoutMs} ms`,
    );
    qmp.on('event', (ev) => {
      if (ev.event === 'SHUTDOWN' && typeof ev.data.reason === 'string') exitState.shutdownReason = ev.data.reason;
    });
    return new QemuProcess({
      name: opts.name, pid, runDir, agentSocketPath: paths.agent, consoleLogPath: paths.consoleLog, accel, args,
      qmp, console: serial, exitState, exited, opTimeoutMs,
    });
  } catch (err) {
    for (const s of servers) s.close();
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const stopped = new Promise((resolve) => child!.once('exit', resolve));
      killGroup(child.pid);
      await stopped;
    }
    if (child?.pid !== undefined) untrackQemu(child.pid);
    removeRunDir(runDir, record);
    throw err;
  }
}

function validate(opts: LaunchOptions): void {
  if (typeof opts.name !== 'string' || opts.name === '') throw new Error(`launchQemu: name must be a non-empty string, got ${JSON.stringify(opts.name)}`);
  const where = `launchQemu (VM "${opts.name}")`;
  if (!Number.isInteger(opts.memoryMiB) || opts.memoryMiB < 16) {
    throw new Error(`${where}: memoryMiB must be an integer >= 16, got ${opts.memoryMiB}`);
  }
  if (opts.cpus !== undefined && (!Number.isInteger(opts.cpus) || opts.cpus < 1 || opts.cpus > 255)) {
    throw new Error(`${where}: cpus must be an integer from 1 to 255, got ${opts.cpus}`);
  }
  if ((opts.initrd || opts.append) && !opts.kernel) throw new Error(`${where}: initrd and append need a kernel`);
  for (const [what, file] of [['kernel', opts.kernel], ['initrd', opts.initrd]] as const) {
    if (file === undefined) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new Error(`${where}: ${what} file ${file} does not exist or is not readable`);
    }
  }
  if (opts.ram?.path) {
    let size: number | undefined;
    try {
      size = statSync(opts.ram.path).size;
    } catch {
      if (opts.ram.share === false) throw new Error(`${where}: RAM file ${opts.ram.path} does not exist (share=false maps an existing template)`);
    }
    if (size !== undefined && size !== opts.memoryMiB * MiB) {
      throw new Error(`${where}: RAM file ${opts.ram.path} holds ${size} bytes but the VM has ${opts.memoryMiB} MiB (${opts.memoryMiB * MiB} bytes)`);
    }
  }
  if (opts.extraArgs && !opts.extraArgs.every((a) => typeof a === 'string')) {
    throw new Error(`${where}: extraArgs must be strings, got ${JSON.stringify(opts.extraArgs)}`);
  }
}

/** /dev/shm (tmpfs) when it has room for the whole guest RAM, else the run dir. */
function defaultRamPath(runDir: string, memoryMiB: number): string {
  try {
    const fs = statfsSync(SHM_DIR);
    if (fs.bavail * fs.bsize >= memoryMiB * MiB) return join(SHM_DIR, `provium-${basename(runDir)}.ram`);
  } catch {
    // no /dev/shm
  }
  return join(runDir, 'ram');
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

function acceptOne(server: Server): Promise<Socket> {
  return new Promise((resolve) => server.once('connection', resolve));
}

/**
 * setpriv sets PR_SET_PDEATHSIG and execs QEMU (same pid). `detached` puts
 * QEMU in a new session and process group: Ctrl-C in provium's terminal does
 * not reach it; killGroup(pid) reaches it and anything it spawns.
 */
function spawnQemu(setpriv: string, qemu: string, args: string[], logPath: string): Promise<ChildProcess> {
  const logFd = openSync(logPath, 'a');
  try {
    const child = spawn(setpriv, ['--pdeathsig', 'KILL', '--', qemu, ...args], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve(child));
      child.once('error', (err) => reject(new Error(`cannot start ${setpriv}: ${err.message}`)));
    });
  } finally {
    closeSync(logFd);
  }
}

/** `work`, unless QEMU exits first (its exit error) or time runs out. */
async function raceExit<T>(work: Promise<T>, exited: Promise<QemuExit>, timeoutMs: number, timeoutMsg: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(timeoutMsg)), timeoutMs);
  });
  const death = exited.then((info): never => {
    throw info.error;
  });
  try {
    return await Promise.race([work, death, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why QMP dropped: QEMU's exit, or — if QEMU lingers without QMP — kill it and say so. */
async function disconnectError(name: string, pid: number, exited: Promise<QemuExit>, ms: number): Promise<Error> {
  const info = await settleWithin(exited, ms);
  if (info) return info.error;
  killGroup(pid);
  return new Error(`QMP connection of VM "${name}" closed but QEMU kept running for ${ms} ms; killed it`);
}
