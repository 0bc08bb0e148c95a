/** `provium:vm(...)`: the binding of the schema's VM class. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Lua } from '@provium/types';
import { ClockHandle, ConsoleHandle, DiskRef, FileHandle, NicHandle, VmHandle } from '../vm/handles.js';
import { restoreMode } from '../vm/lab.js';
import { ProcessHandle } from '../vm/process.js';
import { RunResult } from '../vm/results.js';
import { SnapshotHandle, freshTempPath } from '../vm/snapshots.js';
import { requireHostOf, scaledMs, snapshotPathArg } from './scope.js';

const OPEN_MODES = ['r', 'w', 'a', 'r+', 'w+', 'a+'] as const;
type OpenMode = (typeof OPEN_MODES)[number];

/** `vm:attach_disk()` without a source: a scratch disk of the original's default size. */
const DEFAULT_ATTACH_SIZE = 4 * 1024 ** 3;

const commandOf = (cmd: string, o: Lua.RunOpts) => (o.args ? [cmd, ...o.args] : cmd);
const commandText = (cmd: string, o: Lua.RunOpts) => (o.args ? [cmd, ...o.args].join(' ') : cmd);

export const vmBinding: Lua.VMBinding = {
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
      await vm.session.boot(opts ?? {}, call.signal);
      return vm;
    },
    shutdown: async (vm) => vm.session.shutdown(),
    pause: async (vm) => vm.session.pause(),
    resume: async (vm) => vm.session.resume(),
    reset: async (vm, _args, call) => vm.session.reset(call.signal),
    power_button: async (vm) => vm.session.powerButton(),
    snapshot: async (vm, [p], call) => {
      const out = snapshotPathArg(p, `${vm.session.label}: vm:snapshot()`) ?? freshTempPath(call.services, vm.session.name, '.snap');
      await vm.session.snapshot(out);
      return new SnapshotHandle(out);
    },
    restore: async (vm, [snap], call) => {
      const file = snap instanceof SnapshotHandle ? snap.file : path.resolve(snap);
      const template = await vm.session.guard(requireHostOf(call).snapshotTemplate(file));
      await vm.session.restore(template, restoreMode(call.services), call.signal);
      return vm;
    },
    run: async (vm, [cmd, opts], call) => {
      const o = opts ?? {};
      const agent = vm.session.agentFor();
      const timeoutMs = o.timeout === undefined ? undefined : scaledMs(o.timeout, call);
      const r = await vm.session.guard(agent.exec(commandOf(cmd, o), { env: o.env, cwd: o.cwd, stdin: o.stdin, timeoutMs }), call.signal);
      return new RunResult(commandText(cmd, o), r);
    },
    run_async: async (vm, [cmd, opts]) => {
      const o = opts ?? {};
      if (o.timeout !== undefined) throw new Error('run_async takes no timeout: use process:wait(timeout) and process:kill()');
      const proc = await vm.session.guard(vm.session.agentFor().spawn(commandOf(cmd, o), { env: o.env, cwd: o.cwd }));
      const handle = new ProcessHandle(vm.session, commandText(cmd, o), proc);
      if (o.stdin !== undefined) {
        await proc.write(o.stdin);
        await proc.closeStdin();
      }
      return handle;
    },
    read_file: async (vm, [p]) => vm.session.guard(vm.session.agentFor().readFile(p)),
    write_file: async (vm, [p, data]) => vm.session.guard(vm.session.agentFor().writeFile(p, data)),
    push_file: async (vm, [host, guest]) => {
      const agent = vm.session.agentFor();
      let data: Buffer;
      try {
        data = await readFile(host);
      } catch (e) {
        throw new Error(`cannot read host file ${host}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      await vm.session.guard(agent.writeFile(guest, data));
    },
    stat: async (vm, [p]) => {
      const st = await vm.session.guard(vm.session.agentFor().stat(p));
      return { size: st.size, mtime: st.mtime, perm: st.perm, entry_type: st.entryType };
    },
    listdir: async (vm, [p]) => {
      const entries = await vm.session.guard(vm.session.agentFor().listdir(p));
      return entries.map((e) => ({ name: e.name, entry_type: e.entryType }));
    },
    mkdir: async (vm, [p, opts]) => vm.session.guard(vm.session.agentFor().mkdir(p, { parents: opts?.parents === true })),
    unlink: async (vm, [p]) => vm.session.guard(vm.session.agentFor().unlink(p)),
    rename: async (vm, [from, to]) => vm.session.guard(vm.session.agentFor().rename(from, to)),
    open_file: async (vm, [p, mode], call) => {
      if (!(OPEN_MODES as readonly string[]).includes(mode)) throw new Error(`mode must be one of ${OPEN_MODES.map((m) => `"${m}"`).join(', ')}; got "${mode}"`);
      const f = new FileHandle(vm, p, await vm.session.guard(vm.session.agentFor().open(p, mode as OpenMode)));
      call.services.onFileEnd(async () => {
        if (!f.closed && vm.session.state === 'booted') await f.file.close().catch(() => {});
      });
      return f;
    },
    console: (vm) => new ConsoleHandle(vm),
    clock: (vm) => new ClockHandle(vm),
    nic: (vm, [bridge]) => {
      const b = vm.lab.bridges.get(bridge);
      if (!b || !vm.lab.network?.hasNics(vm.session.netId) || !vm.lab.network.nicOn(b.id, vm.session.netId)) {
        throw new Error(`${vm.session.label} has no NIC on bridge "${bridge}"; attach it first: provium.${bridge}:attach({${vm.session.name}})`);
      }
      return new NicHandle(vm, b);
    },
    disk: (vm, [id]) => {
      vm.session.disks.get(id);
      return new DiskRef(vm, id);
    },
    attach_disk: async (vm, [spec = {}]) => {
      const sourced = ['scratch', 'size', 'path', 'image', 'template'].some((k) => k in spec);
      return new DiskRef(vm, await vm.session.attachDisk(sourced ? spec : { ...spec, scratch: DEFAULT_ATTACH_SIZE }));
    },
  },
};
