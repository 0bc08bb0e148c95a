/** `provium:vm(...)`: the binding of the schema's VM class. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Lua } from '@provium/types';
import { ClockHandle, ConsoleHandle, DiskRef, FileHandle, NicHandle, VmHandle } from '../vm/handles.js';
import { restoreMode } from '../vm/lab.js';
import { SnapshotHandle, forFixtureCache, freshTempPath } from '../vm/snapshots.js';
import { fdStream, tailFile } from '../vm/tail-stream.js';
import { vmBatch } from './batch.js';
import { entriesTable, statTable } from './guest-args.js';
import { readGuestFile } from './read-guest-file.js';
import { runAsync, runCommand } from './run-command.js';
import { opened, requireHostOf, scaledMs, snapshotPathArg } from './scope.js';
import { spawnWorker } from './worker.js';
import { LuaValues } from '../binding/convert.js';
import { memAddress, memLength, syscallCall } from '../vm/syscall-args.js';
import { SyscallHandle, readAgentMemory, runIoctl, runSyscall } from '../vm/syscall.js';

const OPEN_MODES = ['r', 'w', 'a', 'r+', 'w+', 'a+'] as const;
type AgentOpenMode = (typeof OPEN_MODES)[number] | `=${string}`;
const FLAG_LETTERS = { read: 'r', write: 'w', append: 'a', create: 'c', truncate: 't', exclusive: 'x' } as const;

/** `open_file`'s mode, an fopen string or a table of flags, as the agent takes it ("=" and flag letters). */
function openMode(mode: string | Lua.OpenMode): { agentMode: AgentOpenMode; perm?: number } {
  if (typeof mode === 'string') {
    if (!(OPEN_MODES as readonly string[]).includes(mode)) throw new Error(`mode must be one of ${OPEN_MODES.map((m) => `"${m}"`).join(', ')}, or a table of flags; got "${mode}"`);
    return { agentMode: mode as AgentOpenMode };
  }
  if (!mode.read && !mode.write && !mode.append) throw new Error('a mode table needs read, write or append set to true');
  const letters = Object.entries(FLAG_LETTERS).filter(([k]) => mode[k as keyof typeof FLAG_LETTERS]).map(([, l]) => l).join('');
  return { agentMode: `=${letters}`, ...(mode.perm !== undefined ? { perm: mode.perm } : {}) };
}

/** `vm:attach_disk()` without a source: a scratch disk of the original's default size. */
const DEFAULT_ATTACH_SIZE = 4 * 1024 ** 3;

/** `eth<N>`, `ens<N>`, `enp0s<N>`: the N-th (from 0) bridge of the VM's lab that it has a NIC on, in name order. */
function byInterfaceName(vm: VmHandle, name: string) {
  const n = /^(?:eth|ens|enp0s)(\d+)$/.exec(name);
  if (!n) return undefined;
  const on = [...vm.lab.bridges.values()].filter((b) => vm.lab.network?.nicOn(b.id, vm.session.netId)).sort((a, b) => (a.name < b.name ? -1 : 1));
  const b = on[Number(n[1])];
  if (!b) throw new Error(`${vm.session.label}: no interface ${name}: it is on ${on.length} bridge${on.length === 1 ? '' : 's'}${on.length ? ` (${on.map((x) => x.name).join(', ')})` : ''}; name a bridge, or eth<N>/ens<N>/enp0s<N> for the N-th of them (from 0) in name order`);
  return b;
}

/** `vm:state()`: the session's state, "dead" for one whose QEMU died. */
const stateOf = (vm: VmHandle) => (vm.session.dead ? 'dead' : vm.session.asleep ? 'suspended' : vm.session.state);

export const vmBinding: Lua.VMBinding = {
  is: (v) => v instanceof VmHandle,
  receiver: 'vm',
  tostring: (vm) => `VM(${vm.session.name}, ${stateOf(vm)}${vm.session.pid === undefined ? '' : `, cid ${vm.session.pid}`})`,
  methods: {
    name: (vm) => vm.session.name,
    profile: (vm) => vm.session.profile,
    state: (vm) => stateOf(vm),
    cid: (vm) => vm.session.pid,
    open_file_count: (vm) => vm.session.openFiles.size,
    open_stream_count: (vm) => vm.session.openStreams.size,
    is_quiescent: (vm) => vm.session.openFiles.size === 0 && vm.session.openStreams.size === 0,
    close: async (vm) => {
      await vm.session.shutdown().catch(() => vm.session.kill('closed'));
    },
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
      await vm.session.snapshot(out, forFixtureCache(call.services, out));
      return new SnapshotHandle(out);
    },
    restore: async (vm, [snap], call) => {
      const file = snap instanceof SnapshotHandle ? snap.file : path.resolve(snap);
      const template = await vm.session.guard(requireHostOf(call).snapshotTemplate(file));
      await vm.session.restore(template, restoreMode(call.services), call.signal);
      return vm;
    },
    run: async (vm, [cmd, arg2], call) => runCommand(vm.session, vm.session.agentFor(), cmd, arg2, call),
    run_async: async (vm, [cmd, arg2], call) => runAsync(vm.session, vm.session.agentFor(), cmd, arg2, call),
    spawn_worker: async (vm, [opts = {}], call) => spawnWorker(vm.session, opts, call),
    read_file: async (vm, [p]) => readGuestFile(vm.session, p),
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
    stat: async (vm, [p]) => statTable(await vm.session.guard(vm.session.agentFor().stat(p))),
    listdir: async (vm, [p]) => entriesTable(await vm.session.guard(vm.session.agentFor().listdir(p))),
    mkdir: async (vm, [p, opts]) => vm.session.guard(vm.session.agentFor().mkdir(p, { parents: opts?.parents === true })),
    unlink: async (vm, [p]) => vm.session.guard(vm.session.agentFor().unlink(p)),
    rename: async (vm, [from, to]) => vm.session.guard(vm.session.agentFor().rename(from, to)),
    batch: { raw: vmBatch },
    open_file: async (vm, [p, mode], call) => {
      const { agentMode, perm } = openMode(mode);
      const f = new FileHandle(vm, p, await vm.session.guard(vm.session.agentFor().open(p, agentMode, perm === undefined ? {} : { perm })));
      vm.session.openFiles.add(f);
      call.services.onScopeEnd(() => f.close(), 'file');
      return f;
    },
    tail_file: async (vm, [p, opts], call) => opened(await tailFile(vm.session, p, opts?.start), call, vm.session),
    fd_stream: async (vm, [fdOrFile], call) => opened(await fdStream(vm, fdOrFile), call, vm.session),
    console: (vm) => new ConsoleHandle(vm),
    wakeup: async (vm, _args, call) => vm.session.wakeup(call.signal),
    clock: (vm) => new ClockHandle(vm),
    nic: (vm, [bridge]) => {
      const b = vm.lab.bridges.get(bridge) ?? byInterfaceName(vm, bridge);
      if (!b || !vm.lab.network?.hasNics(vm.session.netId) || !vm.lab.network.nicOn(b.id, vm.session.netId)) {
        throw new Error(`${vm.session.label} has no NIC on bridge "${bridge}"; attach it first: provium.${bridge}:attach({${vm.session.name}})`);
      }
      return new NicHandle(vm, b);
    },
    disk: (vm, [id]) => {
      vm.session.disks.get(id);
      return new DiskRef(vm, id);
    },
    syscall: async (vm, [nr, ...rest], call) => runSyscall(vm.session, syscallCall(nr, rest, call.overload === 0, (s) => scaledMs(s, call))),
    syscall_async: (vm, [nr, ...rest], call) => {
      const handle = SyscallHandle.start(vm.session, syscallCall(nr, rest, call.overload === 0, (s) => scaledMs(s, call)));
      call.services.onScopeEnd(() => handle.close(), 'process');
      return handle;
    },
    ioctl: async (vm, [fd, cmd, data, opts]) => runIoctl(vm.session, fd, cmd, data ?? new Uint8Array(0), opts ?? {}),
    read_mem: async (vm, [addr, len]) => {
      const r = await readAgentMemory(vm.session, memAddress(addr), memLength(len));
      return r instanceof Uint8Array ? r : new LuaValues([undefined, r.errno]);
    },
    attach_disk: async (vm, [spec = {}]) => {
      const sourced = ['scratch', 'size', 'path', 'image', 'template'].some((k) => k in spec);
      return new DiskRef(vm, await vm.session.attachDisk(sourced ? spec : { ...spec, scratch: DEFAULT_ATTACH_SIZE }));
    },
  },
};
