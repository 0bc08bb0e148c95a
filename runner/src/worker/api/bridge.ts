/** `lab:bridge(...)`: the binding of the schema's Bridge class. */
import type { Lua } from '@provium/types';
import { BridgeHandle, NicHandle, VmHandle } from '../vm/handles.js';
import { openCapture } from './capture.js';

type VmArg = VmHandle | string;

/**
 * A VM given by handle or by name (the original takes both): a name is a VM
 * of the bridge's lab; another name is an error that names the lab's VMs.
 */
function vmOf(bridge: BridgeHandle, v: VmArg): VmHandle {
  if (v instanceof VmHandle) return v;
  const vm = bridge.lab.vms.get(v);
  if (vm) return vm;
  const known = [...bridge.lab.vms.keys()];
  throw new Error(`bridge "${bridge.name}": no VM named "${v}" in its lab${known.length ? ` (VMs: ${known.join(', ')})` : ''}`);
}

const idOf = (bridge: BridgeHandle, v: VmArg) => vmOf(bridge, v).session.netId;

/** A VM pair, or one direction `{from=, to=}`, as the network's ends. */
function ends(bridge: BridgeHandle, what: string, a: VmArg | Lua.PartitionSpec, b: VmArg | undefined): [string, string] | [{ from: string; to: string }] {
  if (!(a instanceof VmHandle) && typeof a !== 'string') return [{ from: idOf(bridge, a.from), to: idOf(bridge, a.to) }];
  if (b === undefined) throw new Error(`bridge "${bridge.name}": ${what}(a, b) needs two VMs, or one direction as {from=a, to=b}`);
  return [idOf(bridge, a), idOf(bridge, b)];
}

/** A number for both directions, or `{from=, to=, <key>=}` for one; `scale` turns the author's unit into the network's. */
function directed<K extends 'ms' | 'p'>(bridge: BridgeHandle, spec: number | ({ from?: VmArg; to?: VmArg } & Record<K, number>), key: K, scale: (n: number) => number) {
  if (typeof spec === 'number') return scale(spec);
  const from = spec.from === undefined ? {} : { from: idOf(bridge, spec.from) };
  const to = spec.to === undefined ? {} : { to: idOf(bridge, spec.to) };
  return { ...from, ...to, [key]: scale(spec[key]) } as { from?: string; to?: string } & Record<K, number>;
}

/** The original's drop rate is in percent: fractions allowed, above 100 is 100, negative is an error. */
function probability(bridge: BridgeHandle, pct: number): number {
  if (!(pct >= 0)) throw new Error(`bridge "${bridge.name}": drop_rate is a percentage from 0 to 100, got ${pct}`);
  return Math.min(pct, 100) / 100;
}

/** Files whose log already has the notice that routes are graph state only. */
const routeNoticed = new WeakSet<object>();

export const bridgeBinding: Lua.BridgeBinding = {
  is: (v) => v instanceof BridgeHandle,
  receiver: 'bridge',
  tostring: (b) => `Bridge(${b.name})`,
  methods: {
    name: (b) => b.name,
    attach: async (b, [vms]) => b.attach((Array.isArray(vms) ? vms : [vms]).map((v) => vmOf(b, v))),
    detach: async (b, [vm]) => (await b.net()).detach(b.id, idOf(b, vm)),
    partition: async (b, [x, y]) => (await b.net()).partition(b.id, ...ends(b, 'partition', x, y)),
    unpartition: async (b, [x, y]) => (await b.net()).unpartition(b.id, ...ends(b, 'unpartition', x, y)),
    partition_all: async (b) => (await b.net()).partitionAll(b.id),
    restore_all: async (b) => (await b.net()).restoreAll(b.id),
    add_latency: async (b, [spec]) => (await b.net()).addLatency(b.id, directed(b, spec, 'ms', (ms) => ms)),
    drop_rate: async (b, [spec]) => (await b.net()).dropRate(b.id, directed(b, spec, 'p', (pct) => probability(b, pct))),
    isolate: async (b, [vm]) => (await b.net()).isolate(b.id, idOf(b, vm)),
    unisolate: async (b, [vm]) => (await b.net()).unisolate(b.id, idOf(b, vm)),
    is_partitioned: async (b, [x, y]) => {
      const [p, q] = [idOf(b, x), idOf(b, y)];
      const cut = (await b.net()).impairments(b.id).partitions;
      return cut.some((d) => d.from === p && d.to === q) && cut.some((d) => d.from === q && d.to === p);
    },
    is_isolated: async (b, [vm]) => (await b.net()).impairments(b.id).isolated.includes(idOf(b, vm)),
    members: async (b) => {
      const ids = new Set((await b.net()).members(b.id));
      return b.lab.allVms().filter((v) => ids.has(v.session.netId)).map((v) => v.session.name).sort();
    },
    latency_ms: async (b) => (await b.net()).impairments(b.id).latency.find((r) => r.from === undefined && r.to === undefined)?.ms ?? 0,
    drop_rate_pct: async (b) => 100 * ((await b.net()).impairments(b.id).drop.find((r) => r.from === undefined && r.to === undefined)?.p ?? 0),
    bandwidth_limit: async (b, [spec]) =>
      (await b.net()).bandwidthLimit(b.id, typeof spec === 'number' ? spec : { from: idOf(b, spec.from), to: idOf(b, spec.to), bps: spec.bps }),
    bandwidth_bps: async (b) => (await b.net()).impairments(b.id).bandwidth.find((r) => r.from === undefined && r.to === undefined)?.bps ?? 0,
    capture: async (b, [], call) => {
      const net = await b.net();
      return openCapture(call, { label: `bridge "${b.name}"`, fileName: b.name }, (sink) => net.capture(b.id, undefined, sink), b.openCaptures);
    },
    nic: async (b, [vm]) => {
      const v = vmOf(b, vm);
      if (!(await b.net()).nics(v.session.netId).some((n) => n.bridge === b.id)) throw new Error(`bridge "${b.name}": ${v.session.label} is not attached to it; attach it first`);
      return new NicHandle(v, b);
    },
    reset: async (b) => (await b.net()).reset(b.id),
    route: (b, [to], call) => {
      for (const x of Array.isArray(to) ? to : [to]) b.routes.add(x instanceof BridgeHandle ? x.name : x);
      if (!routeNoticed.has(call.services)) {
        routeNoticed.add(call.services);
        call.services.log(`bridge:route(): recorded as graph state only (as the original does): no packet is routed between bridges; put a VM on both to route`);
      }
    },
    routes: (b) => [...b.routes].sort(),
    enable_uplink: async (b) => (await b.net()).setUplink(b.id, true),
    disable_uplink: async (b) => (await b.net()).setUplink(b.id, false),
  },
};
