/** `lab:bridge(...)`: the binding of the schema's Bridge class. */
import type { Lua } from '@provium/types';
import { BridgeHandle, VmHandle } from '../vm/handles.js';

const idOf = (v: VmHandle) => v.session.netId;

/** A VM pair, or one direction `{from=, to=}`, as the network's ends. */
function ends(bridge: BridgeHandle, what: string, a: VmHandle | Lua.PartitionSpec, b: VmHandle | undefined): [string, string] | [{ from: string; to: string }] {
  if (!(a instanceof VmHandle)) return [{ from: idOf(a.from), to: idOf(a.to) }];
  if (b === undefined) throw new Error(`bridge "${bridge.name}": ${what}(a, b) needs two VMs, or one direction as {from=a, to=b}`);
  return [idOf(a), idOf(b)];
}

/** A number for both directions, or `{from=, to=, <key>=}` for one. */
function directed<K extends 'ms' | 'p'>(spec: number | { from?: VmHandle; to?: VmHandle } & Record<K, number>, key: K) {
  if (typeof spec === 'number') return spec;
  return { ...(spec.from ? { from: idOf(spec.from) } : {}), ...(spec.to ? { to: idOf(spec.to) } : {}), [key]: spec[key] } as { from?: string; to?: string } & Record<K, number>;
}

export const bridgeBinding: Lua.BridgeBinding = {
  is: (v) => v instanceof BridgeHandle,
  receiver: 'bridge',
  tostring: (b) => `Bridge(${b.name})`,
  fields: { name: { get: (b) => b.name } },
  methods: {
    attach: async (b, [vms]) => b.attach(Array.isArray(vms) ? vms : [vms]),
    detach: async (b, [vm]) => (await b.net()).detach(b.id, idOf(vm)),
    partition: async (b, [x, y]) => (await b.net()).partition(b.id, ...ends(b, 'partition', x, y)),
    unpartition: async (b, [x, y]) => (await b.net()).unpartition(b.id, ...ends(b, 'unpartition', x, y)),
    partition_all: async (b) => (await b.net()).partitionAll(b.id),
    restore_all: async (b) => (await b.net()).restoreAll(b.id),
    add_latency: async (b, [spec]) => (await b.net()).addLatency(b.id, directed(spec, 'ms')),
    drop_rate: async (b, [spec]) => (await b.net()).dropRate(b.id, directed(spec, 'p')),
    isolate: async (b, [vm]) => (await b.net()).isolate(b.id, idOf(vm)),
    unisolate: async (b, [vm]) => (await b.net()).unisolate(b.id, idOf(vm)),
    reset: async (b) => (await b.net()).reset(b.id),
    enable_uplink: async (b) => (await b.net()).setUplink(b.id, true),
    disable_uplink: async (b) => (await b.net()).setUplink(b.id, false),
  },
};
