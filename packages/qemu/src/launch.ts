import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, statfsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { basename, join } from 'node:path';
import { buildQemuArgs } from './cmdline.js';
import { QemuConsole, tailLines } from './console.js';
import { QemuExitedError } from './errors.js';
import { detectAccel, findExecutable, QEMU_BINARY } from './host.js';
import { MiB, validate, type LaunchOptions } from './options.js';
import { killGroup, procStat, renice } from './procfs.js';
import { QmpClient } from './qmp.js';
import { sparseCopy } from './sparse.js';
import { QemuProcess, settleWithin, type ExitState, type QemuExit } from './process.js';
import { trackQemu, untrackQemu } from './registry.js';
import {
  copyArtifacts, createRunDir, defaultRuntimeRoot, ensureRuntimeRoot, ownerIdentity, removeRunDir,
  sweepStaleRunDirs, SHM_DIR, writeRecord, type RunDirRecord,
} from './rundir.js';

const sweptRoots = new Set<string>();

/**
 * A fresh boot's RAM file on tmpfs is populated by QEMU before the guest runs
 * (`prealloc=on`: one MADV_POPULATE_WRITE). Otherwise the first touch of each
 * page is a fault of its own (tmpfs maps shared files in 4 KiB pages), several
 * µs each: the default guest touches ~91 of its 256 MiB while it boots, and a
 * plain QEMU boot to a shell took 2.88 s with that file, 2.62 s populated,
 * 2.54 s with anonymous RAM. Populating costs ~0.3 ms per MiB, so it pays when
 * the guest touches more than about a tenth of its RAM: up to this size. Not
 * for restores: their RAM comes from a template, most of it never touched.
 */
const PREALLOC_MAX_MIB = 512;

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
  const share = opts.ram?.share ?? true;
  const prealloc = ram.owned && !opts.ram?.initialFrom && opts.incoming === undefined
    && ram.path.startsWith(`${SHM_DIR}/`) && opts.memoryMiB <= PREALLOC_MAX_MIB;

  let disks = opts.disks ?? [];
  if (opts.makeDisks) {
    try {
      disks = await opts.makeDisks(runDir);
      validate({ ...opts, disks });
    } catch (e) {
      removeRunDir(runDir, record);
      throw e;
    }
  }
  const args = buildQemuArgs({
    name: opts.name,
    accel,
    memoryMiB: opts.memoryMiB,
    cpus: opts.cpus ?? 1,
    ram: { path: ram.path, share, prealloc },
    sockets: { qmp: paths.qmp, console: paths.console, agent: paths.agent },
    ...(opts.kernel ? { kernel: { path: opts.kernel, initrd: opts.initrd, append: opts.append } } : {}),
    incoming: opts.incoming !== undefined,
    startPaused: opts.startPaused ?? false,
    disks,
    extraArgs: opts.extraArgs ?? [],
  });

  // QEMU connects to QMP and console as a client: listening first means no
  // wait for its sockets to appear and no console output lost before we attach.
  let servers: Server[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<QemuExit> | undefined;
  try {
    const qmpServer = await listen(paths.qmp);
    servers.push(qmpServer);
    const consoleServer = await listen(paths.console);
    servers.push(consoleServer);
    const qmpConn = acceptOne(qmpServer);
    const consoleConn = acceptOne(consoleServer);

    if (opts.ram?.initialFrom) {
      // A restore that must snapshot again maps its own copy shared (see snapshot.ts).
      closeSync(openSync(ram.path, 'w'));
      sparseCopy(opts.ram.initialFrom, 0, opts.memoryMiB * MiB, ram.path, 0);
    }
    const incomingState = typeof opts.incoming === 'object' ? opts.incoming.state : undefined;
    const command = [...(opts.nice === undefined ? [] : [findExecutable('nice'), '-n', String(opts.nice)]), setpriv, '--pdeathsig', 'KILL', '--', qemuBinary];
    child = await spawnQemu(command, args, paths.qemuLog, incomingState);
    const pid = child.pid!;
    // `nice` set the threads'; the session QEMU leads has an autogroup of its own to set.
    if (opts.nice !== undefined) renice(pid, opts.nice);
    opts.onSpawn?.({ pid, renice: (value) => renice(pid, value) });
    const exitState: ExitState = { expected: false, shutdownReason: undefined };
    let qmp: QmpClient | undefined;
    let serial: QemuConsole | undefined;
    exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
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

    const start = procStat(pid)?.startTime ?? '';
    record.qemu = { pid, start };
    writeRecord(runDir, record);
    trackQemu(pid, runDir);

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
        disconnectError: () => disconnectError(opts.name, pid, exited!, opTimeoutMs),
      }),
      exited, launchTimeoutMs, `QEMU of VM "${opts.name}" did not complete the QMP handshake within ${launchTimeoutMs} ms`,
    );
    qmp.on('event', (ev) => {
      if (ev.event === 'SHUTDOWN' && typeof ev.data.reason === 'string') exitState.shutdownReason = ev.data.reason;
    });
    return new QemuProcess({
      name: opts.name, pid, runDir, agentSocketPath: paths.agent, consoleLogPath: paths.consoleLog, accel, args,
      qmp, console: serial, exitState, exited: exited!, opTimeoutMs, ...(incomingState ? { incomingFd: INCOMING_FD } : {}),
      machine: { memoryMiB: opts.memoryMiB, cpus: opts.cpus ?? 1, ram: { path: ram.path, share }, disks: [...disks] },
    });
  } catch (err) {
    for (const s of servers) s.close();
    if (exited) {
      // QEMU runs or ran: kill it if needed; the exit handler copies artifacts and removes the run dir.
      if (child!.exitCode === null && child!.signalCode === null) killGroup(child!.pid!);
      await exited;
    } else {
      removeRunDir(runDir, record);
    }
    throw err;
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

/** The fd under which QEMU finds the device state of an incoming migration (`incoming: { state }`). */
export const INCOMING_FD = 3;

/**
 * `command` is `[nice -n N] setpriv --pdeathsig KILL -- qemu`: nice and
 * setpriv each exec the next (same pid); setpriv sets PR_SET_PDEATHSIG. `detached` puts
 * QEMU in a new session and process group: Ctrl-C in provium's terminal does
 * not reach it; killGroup(pid) reaches it and anything it spawns.
 */
function spawnQemu(command: string[], args: string[], logPath: string, incomingState: string | undefined): Promise<ChildProcess> {
  const logFd = openSync(logPath, 'a');
  let stateFd: number | undefined;
  try {
    if (incomingState !== undefined) {
      try {
        stateFd = openSync(incomingState, 'r');
      } catch (e) {
        throw new Error(`cannot open the device state ${incomingState} of the restore: ${(e as Error).message}`);
      }
    }
    const child = spawn(command[0]!, [...command.slice(1), ...args], {
      detached: true,
      env: qemuEnv(process.env),
      stdio: ['ignore', logFd, logFd, ...(stateFd === undefined ? [] : [stateFd])],
    });
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve(child));
      child.once('error', (err) => reject(new Error(`cannot start ${command[0]}: ${err.message}`)));
    });
  } finally {
    closeSync(logFd);
    if (stateFd !== undefined) closeSync(stateFd);
  }
}

/**
 * QEMU's environment: malloc asks for transparent huge pages (glibc 2.35+;
 * older ones ignore the tunable). QEMU's start is mostly page faults and
 * malloc: this halves its faults (~4,900 → ~2,600) and cuts ~25% of its CPU
 * time (~130 → ~95 ms under TCG here), paid on every boot, restore and spare,
 * for ~3–15 MB more resident memory per QEMU. A GLIBC_TUNABLES of the user's
 * is passed as it is instead (`glibc.malloc.hugetlb=0` turns this off):
 * merging is no option: a program linked with glibc 2.36 hands only the first
 * tunable of the list on to what it execs, and setpriv execs QEMU.
 */
function qemuEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.GLIBC_TUNABLES === undefined ? { ...env, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } : env;
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
