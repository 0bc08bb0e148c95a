/**
 * The VM part of the Lua API: `provium` as a Lab that creates and boots VMs,
 * the VM itself, RunResult, Console and Clock. Every VM of a file is killed
 * when the file ends, whatever way it ends.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgentFile } from '@provium/agent';
import { defaultRegistry, type BindingRegistry, type CallContext, type FileServices } from '../binding/registry.js';
import { bytesToText } from '../lua/values.js';
import { ClaimingHost } from './claim.js';
import { luaFind } from './lua-find.js';
import { ProcessHandle } from './process.js';
import { RunResult } from './results.js';
import { Stream } from './stream.js';
import { VmSession, shareLease, type BootOpts, type VmOpts } from './session.js';

const CONSOLE_EXPECT_S = 30;
/** Below this QEMU starts but no Linux kernel boots: a clear error beats a guest that never answers. */
const MIN_MEMORY = 32 * 1024 * 1024;
const STREAM_WAIT_S = 10;

/** A stream opened by a test is closed when that test ends (the file, in top-level code). */
function opened(s: Stream, call: CallContext): Stream {
  call.services.onScopeEnd(() => s.close());
  return s;
}

type RunOpts = { args?: string[]; env?: Record<string, string>; cwd?: string; stdin?: Uint8Array; timeout?: number };
const commandOf = (cmd: string, o: RunOpts) => (o.args ? [cmd, ...o.args] : cmd);
const commandText = (cmd: string, o: RunOpts) => (o.args ? [cmd, ...o.args].join(' ') : cmd);

export class Lab {
  readonly vms = new Map<string, VmHandle>();
  /** The file's view of the main thread's services, with its claim if it made one. */
  private readonly host: ClaimingHost | undefined;
  /** The file's claim on the shared pool, given back after its VMs are gone. */
  private claimId: number | undefined;

  constructor(readonly services: FileServices) {
    this.host = services.host && new ClaimingHost(services.host, services.task.displayPath);
    services.onFileEnd(async () => {
      const keep = services.task.keepOnFailure && services.fileFailed;
      await Promise.all([...this.vms.values()].map((v) => (keep ? v.session.keep() : v.session.kill('file ended'))));
      if (this.claimId !== undefined) await services.host!.release(this.claimId);
    });
    services.onTestFailure((test) => this.keepArtifacts(test));
  }

  /** The console and agent logs of every VM that was started, under .provium/artifacts/<file>/<test>/. */
  private async keepArtifacts(test: string): Promise<Record<string, string>> {
    const started = [...this.vms.values()].filter((v) => v.session.console !== undefined);
    if (started.length === 0) return {};
    const slug = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');
    const dir = path.resolve('.provium', 'artifacts', slug(this.services.task.displayPath), slug(test));
    await mkdir(dir, { recursive: true });
    const kept: Record<string, string> = {};
    for (const v of started) {
      const name = v.session.name;
      kept[`${name} console log`] = path.join(dir, `${name}.console.log`);
      await writeFile(kept[`${name} console log`], v.session.consoleLog());
      const agentLog = await v.session.agentLog();
      if (agentLog !== undefined) {
        kept[`${name} agent log`] = path.join(dir, `${name}.agent.log`);
        await writeFile(kept[`${name} agent log`], agentLog);
      }
    }
    return kept;
  }

  create(name: string, profile: string, opts: VmOpts | undefined): VmHandle {
    if (this.vms.has(name)) throw new Error(`a VM named "${name}" already exists in this lab; pick another name or look it up with provium:vm("${name}")`);
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(name)) {
      throw new Error(`VM name "${name}" must be a hostname: letters, digits and inner dashes`);
    }
    if (opts?.cpus !== undefined && opts.cpus < 1) throw new Error(`VM "${name}": cpus must be at least 1; got ${opts.cpus}`);
    if (opts?.memory !== undefined && opts.memory < MIN_MEMORY) {
      throw new Error(`VM "${name}": memory ${opts.memory} bytes is too small to boot a Linux guest; give at least "${MIN_MEMORY / 1024 / 1024}M"`);
    }
    const host = this.requireHost();
    const s = this.services;
    const session = new VmSession(name, profile, opts ?? {}, {
      host,
      file: s.task.displayPath,
      timeoutScale: s.timeoutScale,
      vmEvent: (e) => s.vmEvent(e),
    });
    const vm = new VmHandle(session);
    this.vms.set(name, vm);
    return vm;
  }

  private requireHost(): ClaimingHost {
    if (!this.host) throw new Error('no VM host in this run (internal: runLuaFile was called without host services)');
    return this.host;
  }

  async claim(wants: { memory?: number; cpus?: number }): Promise<void> {
    const host = this.requireHost();
    this.claimId = await host.claim({ memory: wants.memory ?? 0, cpus: wants.cpus ?? 0 });
  }

  /** Boots every created VM on ONE pool acquisition (no hold-and-wait between labs), in parallel. */
  async boot(signal: AbortSignal): Promise<void> {
    const todo = [...this.vms.values()].filter((v) => v.session.state === 'created');
    if (todo.length === 0) return;
    const demands = await Promise.all(todo.map((v) => v.session.demand()));
    const total = demands.reduce((t, d) => ({ memory: t.memory + d.memory, cpus: t.cpus + d.cpus }), { memory: 0, cpus: 0 });
    const host = this.requireHost();
    const leaseId = await host.acquire(`lab of ${this.services.task.displayPath} (${todo.map((v) => v.session.name).join(', ')})`, total);
    const shares = shareLease(host, leaseId, todo.length);
    const results = await Promise.allSettled(todo.map((v, i) => v.session.boot({}, signal, shares[i])));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  lookup(name: string): VmHandle {
    const vm = this.vms.get(name);
    if (!vm) throw new Error(`no VM named "${name}" in this lab${this.vms.size ? ` (VMs: ${[...this.vms.keys()].join(', ')})` : ''}`);
    return vm;
  }
}

export class VmHandle {
  constructor(readonly session: VmSession) {}
}

/** An open guest file; closed at the end of the file if the test did not close it. */
class FileHandle {
  closed = false;
  constructor(
    readonly vm: VmHandle,
    readonly path: string,
    readonly file: AgentFile,
  ) {}

  use(): AgentFile {
    if (this.closed) throw new Error(`${this.vm.session.label}: file ${this.path} is closed`);
    this.vm.session.agentFor();
    return this.file;
  }
}

const OPEN_MODES = ['r', 'w', 'a', 'r+', 'w+', 'a+'];
const WHENCE = ['set', 'cur', 'end'];

class ConsoleHandle {
  constructor(readonly vm: VmHandle) {}
}

class ClockHandle {
  constructor(readonly vm: VmHandle) {}
}

const ms = (seconds: number, call: CallContext) => seconds * 1000 * call.services.timeoutScale;

/**
 * Waits until the console output after the cursor matches `pattern`; the
 * cursor then moves past the match, so the next expect sees only later output
 * (the first one sees the whole log since boot).
 */
async function consoleExpect(vm: VmHandle, pattern: string, seconds: number, call: CallContext): Promise<Buffer> {
  const s = vm.session;
  s.agentFor();
  const con = s.console!;
  const deadline = Date.now() + ms(seconds, call);
  for (;;) {
    const unread = s.consoleLog(s.consoleCursor);
    const found = luaFind(unread, pattern);
    if (found) {
      s.consoleCursor += found.end;
      return Buffer.from(found.match);
    }
    if (s.state === 'shutdown' || s.consoleEnded) {
      throw (await s.exitCause()) ?? new Error(`${s.label}: shut down before the console matched ${JSON.stringify(pattern)}`);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const tail = bytesToText(unread).split('\n').slice(-10).join('\n');
      throw new Error(`${s.label}: console did not match ${JSON.stringify(pattern)} within ${seconds * call.services.timeoutScale}s; last console lines:\n${tail}`);
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        con.off('data', done);
        con.off('end', done);
        call.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, left);
      con.on('data', done);
      con.on('end', done);
      call.signal.addEventListener('abort', done, { once: true });
    });
    if (call.signal.aborted) throw call.signal.reason;
  }
}

export function registerVms(registry: BindingRegistry): void {
  registry.registerGlobal('provium', { value: (services: FileServices) => new Lab(services) }, { replace: true });

  registry.registerClass<Lab>('Lab', {
    is: (v) => v instanceof Lab,
    member: (lab, name) => lab.vms.get(name),
    methods: {
      vm: (lab, [name, profile, opts], call) => (call.overload === 1 ? lab.lookup(name as string) : lab.create(name as string, profile as string, opts as VmOpts)),
      members: (lab) => [...lab.vms.values()],
      boot: async (lab, _a, call) => {
        await lab.boot(call.signal);
        return lab;
      },
      claim: (lab, [opts]) => lab.claim(opts as { memory?: number; cpus?: number }),
      shutdown: async (lab) => {
        await Promise.all([...lab.vms.values()].map((v) => v.session.shutdown()));
      },
      pause: async (lab) => {
        await Promise.all([...lab.vms.values()].filter((v) => v.session.state === 'booted').map((v) => v.session.pause()));
      },
      resume: async (lab) => {
        await Promise.all([...lab.vms.values()].filter((v) => v.session.state === 'paused').map((v) => v.session.resume()));
      },
    },
  });

  registry.registerClass<VmHandle>('VM', {
    is: (v) => v instanceof VmHandle,
    receiver: 'vm',
    tostring: (vm) => `VM(${vm.session.name}, ${vm.session.state})`,
    fields: {
      name: { get: (vm) => vm.session.name },
      profile: { get: (vm) => vm.session.profile },
      state: { get: (vm) => vm.session.state },
    },
    methods: {
      boot: async (vm, [opts], call) => {
        await vm.session.boot((opts ?? {}) as BootOpts, call.signal);
        return vm;
      },
      shutdown: (vm) => vm.session.shutdown(),
      pause: (vm) => vm.session.pause(),
      resume: (vm) => vm.session.resume(),
      reset: (vm, _a, call) => vm.session.reset(call.signal),
      power_button: (vm) => vm.session.powerButton(),
      run: async (vm, [cmd, opts], call) => {
        const o = (opts ?? {}) as RunOpts;
        const agent = vm.session.agentFor();
        const r = await vm.session.guard(
          agent.exec(commandOf(cmd as string, o), { env: o.env, cwd: o.cwd, stdin: o.stdin, timeoutMs: o.timeout === undefined ? undefined : ms(o.timeout, call) }),
          call.signal,
        );
        return new RunResult(commandText(cmd as string, o), r);
      },
      run_async: async (vm, [cmd, opts]) => {
        const o = (opts ?? {}) as RunOpts;
        if (o.timeout !== undefined) throw new Error('run_async takes no timeout: use process:wait(timeout) and process:kill()');
        const proc = await vm.session.guard(vm.session.agentFor().spawn(commandOf(cmd as string, o), { env: o.env, cwd: o.cwd }));
        const handle = new ProcessHandle(vm.session, commandText(cmd as string, o), proc);
        if (o.stdin !== undefined) {
          await proc.write(o.stdin);
          await proc.closeStdin();
        }
        return handle;
      },
      read_file: (vm, [p]) => vm.session.guard(vm.session.agentFor().readFile(p as string)),
      write_file: (vm, [p, data]) => vm.session.guard(vm.session.agentFor().writeFile(p as string, data as Uint8Array)),
      stat: async (vm, [p]) => {
        const st = await vm.session.guard(vm.session.agentFor().stat(p as string));
        return { size: st.size, mtime: st.mtime, perm: st.perm, entry_type: st.entryType };
      },
      listdir: async (vm, [p]) => {
        const entries = await vm.session.guard(vm.session.agentFor().listdir(p as string));
        return entries.map((e) => ({ name: e.name, entry_type: e.entryType }));
      },
      mkdir: (vm, [p, opts]) => vm.session.guard(vm.session.agentFor().mkdir(p as string, { parents: !!(opts as { parents?: boolean } | undefined)?.parents })),
      unlink: (vm, [p]) => vm.session.guard(vm.session.agentFor().unlink(p as string)),
      rename: (vm, [a, b]) => vm.session.guard(vm.session.agentFor().rename(a as string, b as string)),
      push_file: async (vm, [host, guest]) => {
        const agent = vm.session.agentFor();
        let data: Buffer;
        try {
          data = await readFile(host as string);
        } catch (e) {
          throw new Error(`cannot read host file ${host as string}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        await vm.session.guard(agent.writeFile(guest as string, data));
      },
      open_file: async (vm, [p, mode], call) => {
        if (!OPEN_MODES.includes(mode as string)) throw new Error(`mode must be one of ${OPEN_MODES.map((m) => `"${m}"`).join(', ')}; got "${mode as string}"`);
        const f = new FileHandle(vm, p as string, await vm.session.guard(vm.session.agentFor().open(p as string, mode as 'r')));
        call.services.onFileEnd(async () => {
          if (!f.closed && vm.session.state === 'booted') await f.file.close().catch(() => {});
        });
        return f;
      },
      console: (vm) => new ConsoleHandle(vm),
      clock: (vm) => new ClockHandle(vm),
    },
  });

  registry.registerClass<RunResult>('RunResult', {
    is: (v) => v instanceof RunResult,
    receiver: 'result',
    tostring: (r) => `RunResult(${r.status}, exit ${r.exit_code})`,
    fields: {
      exit_code: { get: (r) => r.exit_code },
      stdout: { get: (r) => r.stdout },
      stderr: { get: (r) => r.stderr },
      status: { get: (r) => r.status },
      signal: { get: (r) => r.signal },
      timed_out: { get: (r) => r.timed_out },
    },
    methods: {
      ok: (r) => r.ok(),
      assert_ok: (r) => {
        if (!r.ok()) throw new Error(r.failureText());
        return r;
      },
    },
  });

  registry.registerClass<ProcessHandle>('Process', {
    is: (v) => v instanceof ProcessHandle,
    receiver: 'process',
    tostring: (p) => `Process(${p.proc.pid}, ${p.status()})`,
    methods: {
      wait: (p, [timeout], call) => p.wait(timeout === undefined ? undefined : (timeout as number) * call.services.timeoutScale),
      kill: async (p, [sig]) => {
        await p.request(() => p.proc.kill((sig as string | undefined) ?? 'term'));
      },
      pid: (p) => p.proc.pid,
      status: (p) => p.status(),
      stdin_write: (p, [data]) => p.request(() => p.proc.write(data as Uint8Array)),
      close_stdin: (p) => p.request(() => p.proc.closeStdin()),
      stdout_stream: (p, _a, call) => opened(p.stream('stdout'), call),
      stderr_stream: (p, _a, call) => opened(p.stream('stderr'), call),
    },
  });

  registry.registerClass<FileHandle>('File', {
    is: (v) => v instanceof FileHandle,
    receiver: 'file',
    tostring: (f) => `File(${f.path}${f.closed ? ', closed' : ''})`,
    methods: {
      read: (f, [n]) => f.vm.session.guard(f.use().read(n as number)),
      read_all: (f) => f.vm.session.guard(f.use().readAll()),
      write: async (f, [data]) => {
        await f.vm.session.guard(f.use().write(data as Uint8Array));
      },
      seek: (f, [off, whence]) => {
        const w = (whence as string | undefined) ?? 'set';
        if (!WHENCE.includes(w)) throw new Error(`whence must be "set", "cur" or "end"; got "${w}"`);
        return f.vm.session.guard(f.use().seek(off as number, w as 'set'));
      },
      tell: (f) => f.vm.session.guard(f.use().tell()),
      close: async (f) => {
        if (f.closed) return;
        const file = f.use();
        f.closed = true;
        await f.vm.session.guard(file.close());
      },
    },
  });

  const wait = (t: unknown, call: CallContext, dflt: number) => ((t as number | undefined) ?? dflt) * call.services.timeoutScale;
  registry.registerClass<Stream>('Stream', {
    is: (v) => v instanceof Stream,
    receiver: 'stream',
    tostring: (s) => `Stream(${s.label})`,
    methods: {
      next: (s, [t], call) => s.next(wait(t, call, STREAM_WAIT_S), call.signal),
      read_until: (s, [pattern, t], call) => s.until(pattern as string, wait(t, call, STREAM_WAIT_S), call.signal, 'through'),
      expect: (s, [pattern, t], call) => s.until(pattern as string, wait(t, call, STREAM_WAIT_S), call.signal, 'match'),
      drain: (s, [t], call) => s.drain(wait(t, call, 0), call.signal),
      close: (s) => s.close(),
      eof: (s) => s.eof(),
    },
  });

  registry.registerClass<ConsoleHandle>('Console', {
    is: (v) => v instanceof ConsoleHandle,
    receiver: 'console',
    methods: {
      read: (c, _a, call) => {
        c.vm.session.agentFor();
        const con = c.vm.session.console!;
        const session = c.vm.session;
        const s = new Stream(`${session.label}: console`, () => session.exitCause());
        s.attach((push, end) => {
          con.on('data', push);
          con.on('end', end);
          return () => {
            con.off('data', push);
            con.off('end', end);
          };
        });
        return opened(s, call);
      },
      read_log: (c) => c.vm.session.consoleLog(),
      expect: (c, [pattern, timeout], call) => consoleExpect(c.vm, pattern as string, (timeout as number | undefined) ?? CONSOLE_EXPECT_S, call),
      write: async (c, [data]) => {
        c.vm.session.agentFor();
        await c.vm.session.console!.write(data as Uint8Array);
      },
    },
  });

  registry.registerClass<ClockHandle>('Clock', {
    is: (v) => v instanceof ClockHandle,
    receiver: 'clock',
    methods: {
      get: (c) => c.vm.session.guard(c.vm.session.agentFor().getClock()),
      set: (c, [t]) => c.vm.session.guard(c.vm.session.agentFor().setClock(t as number)),
      advance: async (c, [d]) => {
        const agent = c.vm.session.agentFor();
        const t = await c.vm.session.guard(agent.getClock());
        await c.vm.session.guard(agent.setClock(t + (d as number)));
      },
    },
  });
}

registerVms(defaultRegistry);
