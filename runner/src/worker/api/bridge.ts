/** `lab:bridge(...)`: the binding of the schema's Bridge class. */
import type { Lua } from '@provium/types';
import { BridgeGraph } from '../vm/bridge-graph.js';
import { BridgeHandle, GraphNicHandle, NicHandle, VmHandle } from '../vm/handles.js';
import { openCapture } from './capture.js';

type VmArg = VmHandle | string;

/**
 * A VM given by handle or by name (D11): a name that is a VM of the bridge's
 * lab means that VM; any other name is a graph-only member (bridge-graph.ts).
 */
type End = { vm: VmHandle } | { name: string };

function endOf(bridge: BridgeHandle, v: VmArg): End {
  if (v instanceof VmHandle) return { vm: v };
  const vm = bridge.lab.vms.get(v);
  return vm ? { vm } : { name: v };
}

const keyOf = (e: End) => ('vm' in e ? BridgeGraph.vmKey(e.vm.session.netId) : BridgeGraph.nameKey(e.name));

/** A VM's id in the network; a graph-only name is refused where only a VM can do (`what` says which op). */
function idOf(bridge: BridgeHandle, v: VmArg, what: string): string {
  const e = endOf(bridge, v);
  if ('vm' in e) return e.vm.session.netId;
  throw new Error(`bridge "${bridge.name}": "${e.name}" is not attached (no VM of the bridge's lab has that name; it can only be a graph-only member): ${what} needs attached VMs; attach them first`);
}

/** A VM pair, or one direction `{from=, to=}`, as the network's ends. */
function ends(bridge: BridgeHandle, what: string, a: VmArg | Lua.PartitionSpec, b: VmArg | undefined): [string, string] | [{ from: string; to: string }] {
  if (!(a instanceof VmHandle) && typeof a !== 'string') return [{ from: idOf(bridge, a.from, `a one-way ${what}`), to: idOf(bridge, a.to, `a one-way ${what}`) }];
  if (b === undefined) throw new Error(`bridge "${bridge.name}": ${what}(a, b) needs two VMs, or one direction as {from=a, to=b}`);
  return [idOf(bridge, a, what), idOf(bridge, b, what)];
}

/** A symmetric pair with a graph-only end, or undefined when both ends are VMs (the network's). */
function graphPair(bridge: BridgeHandle, a: VmArg | Lua.PartitionSpec, b: VmArg | undefined): [string, string] | undefined {
  if ((!(a instanceof VmHandle) && typeof a !== 'string') || b === undefined) return undefined;
  const [x, y] = [endOf(bridge, a), endOf(bridge, b)];
  return 'vm' in x && 'vm' in y ? undefined : [keyOf(x), keyOf(y)];
}

/**
 * One direction `{from=, to=}` with a graph-only end, as the ends' keys: both
 * ends must be members (a graph-only name the bridge was given, or a VM), else
 * it raises "not attached". Undefined when both ends are VMs (the network's).
 */
function graphOneWay(bridge: BridgeHandle, spec: VmArg | Lua.PartitionSpec, what: string): [string, string] | undefined {
  if (spec instanceof VmHandle || typeof spec === 'string') return undefined;
  const [from, to] = [endOf(bridge, spec.from), endOf(bridge, spec.to)];
  if ('vm' in from && 'vm' in to) return undefined;
  for (const e of [from, to]) {
    if ('name' in e && !bridge.graph.members.has(e.name)) {
      throw new Error(`bridge "${bridge.name}": "${e.name}" is not attached (no VM of the bridge's lab has that name, and it is no graph-only member of the bridge): ${what} needs both ends attached; attach them first`);
    }
  }
  return [keyOf(from), keyOf(to)];
}

/** The VM ends of a one-way rule must be attached to the bridge (graph-only ends are checked by graphOneWay). */
async function attachedVmEnds(bridge: BridgeHandle, spec: Lua.PartitionSpec, what: string): Promise<void> {
  const net = await bridge.net();
  for (const e of [endOf(bridge, spec.from), endOf(bridge, spec.to)]) {
    if ('vm' in e && !net.nics(e.vm.session.netId).some((n) => n.bridge === bridge.id)) {
      throw new Error(`bridge "${bridge.name}": ${e.vm.session.label} is not attached to it: ${what} needs both ends attached; attach them first`);
    }
  }
}

/** A number for both directions, or `{from=, to=, <key>=}` for one; `scale` turns the author's unit into the network's. */
function directed<K extends 'ms' | 'p'>(bridge: BridgeHandle, spec: number | ({ from?: VmArg; to?: VmArg } & Record<K, number>), key: K, scale: (n: number) => number) {
  if (typeof spec === 'number') return scale(spec);
  const what = key === 'ms' ? 'a one-way latency' : 'a one-way drop rate';
  const from = spec.from === undefined ? {} : { from: idOf(bridge, spec.from, what) };
  const to = spec.to === undefined ? {} : { to: idOf(bridge, spec.to, what) };
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
    attach: async (b, [vms]) => {
      const all = (Array.isArray(vms) ? vms : [vms]).map((v) => endOf(b, v));
      await b.attach(all.flatMap((e) => ('vm' in e ? [e.vm] : [])));
      for (const e of all) if ('name' in e) b.graph.members.add(e.name);
    },
    detach: async (b, [vm]) => {
      const e = endOf(b, vm);
      if ('name' in e) return b.graph.forget(e.name);
      b.graph.forgetKey(keyOf(e));
      await (await b.net()).detach(b.id, e.vm.session.netId);
    },
    partition: async (b, [x, y]) => {
      const pair = graphPair(b, x, y);
      if (pair) return b.graph.partition(...pair);
      const oneWay = graphOneWay(b, x, 'a one-way partition');
      if (oneWay) {
        await attachedVmEnds(b, x as Lua.PartitionSpec, 'a one-way partition');
        return b.graph.partitionOneWay(...oneWay);
      }
      await (await b.net()).partition(b.id, ...ends(b, 'partition', x, y));
    },
    unpartition: async (b, [x, y]) => {
      const pair = graphPair(b, x, y);
      if (pair) return b.graph.unpartition(...pair);
      // Never checks attachment: a one-way rule naming a name that is no member was never made, so there is nothing to lift.
      if (!(x instanceof VmHandle) && typeof x !== 'string' && ['from', 'to'].some((k) => 'name' in endOf(b, x[k as 'from' | 'to']))) {
        return b.graph.unpartitionOneWay(keyOf(endOf(b, x.from)), keyOf(endOf(b, x.to)));
      }
      await (await b.net()).unpartition(b.id, ...ends(b, 'unpartition', x, y));
    },
    partition_all: async (b) => (await b.net()).partitionAll(b.id),
    restore_all: async (b) => (await b.net()).restoreAll(b.id),
    add_latency: async (b, [spec]) => (await b.net()).addLatency(b.id, directed(b, spec, 'ms', (ms) => ms)),
    drop_rate: async (b, [spec]) => (await b.net()).dropRate(b.id, directed(b, spec, 'p', (pct) => probability(b, pct))),
    isolate: async (b, [vm]) => {
      const e = endOf(b, vm);
      if ('name' in e) b.graph.isolated.add(e.name);
      else await (await b.net()).isolate(b.id, e.vm.session.netId);
    },
    unisolate: async (b, [vm]) => {
      const e = endOf(b, vm);
      if ('name' in e) b.graph.isolated.delete(e.name);
      else await (await b.net()).unisolate(b.id, e.vm.session.netId);
    },
    is_partitioned: async (b, [x, y]) => {
      const imp = (await b.net()).impairments(b.id);
      if (imp.cutAll) return true;
      const pair = graphPair(b, x, y);
      if (pair) return b.graph.isPartitioned(...pair);
      const [p, q] = ends(b, 'is_partitioned', x, y) as [string, string];
      return imp.partitions.some((d) => d.from === p && d.to === q) && imp.partitions.some((d) => d.from === q && d.to === p);
    },
    is_isolated: async (b, [vm]) => {
      const e = endOf(b, vm);
      if ('name' in e) return b.graph.isolated.has(e.name);
      return (await b.net()).impairments(b.id).isolated.includes(e.vm.session.netId);
    },
    members: async (b) => {
      const ids = new Set((await b.net()).members(b.id));
      const vms = b.lab.allVms().filter((v) => ids.has(v.session.netId)).map((v) => v.session.name);
      return [...vms, ...b.graph.members].sort();
    },
    latency_ms: async (b) => (await b.net()).impairments(b.id).latency.find((r) => r.from === undefined && r.to === undefined)?.ms ?? 0,
    drop_rate_pct: async (b) => 100 * ((await b.net()).impairments(b.id).drop.find((r) => r.from === undefined && r.to === undefined)?.p ?? 0),
    bandwidth_limit: async (b, [spec]) =>
      (await b.net()).bandwidthLimit(b.id, typeof spec === 'number' ? spec : { from: idOf(b, spec.from, 'a one-way bandwidth limit'), to: idOf(b, spec.to, 'a one-way bandwidth limit'), bps: spec.bps }),
    bandwidth_bps: async (b) => (await b.net()).impairments(b.id).bandwidth.find((r) => r.from === undefined && r.to === undefined)?.bps ?? 0,
    capture: async (b, [], call) => {
      const net = await b.net();
      return openCapture(call, { label: `bridge "${b.name}"`, fileName: b.name }, (sink) => net.capture(b.id, undefined, sink), b.openCaptures);
    },
    nic: async (b, [vm]) => {
      const e = endOf(b, vm);
      if ('name' in e) return new GraphNicHandle(e.name, b);
      if (!(await b.net()).nics(e.vm.session.netId).some((n) => n.bridge === b.id)) throw new Error(`bridge "${b.name}": ${e.vm.session.label} is not attached to it; attach it first`);
      return new NicHandle(e.vm, b);
    },
    reset: async (b) => {
      b.graph.clearPartitions();
      await (await b.net()).reset(b.id);
    },
    route: (b, [to], call) => {
      for (const x of Array.isArray(to) ? to : [to]) b.graph.routes.add(x instanceof BridgeHandle ? x.name : x);
      if (!routeNoticed.has(call.services)) {
        routeNoticed.add(call.services);
        call.services.log(`bridge:route(): recorded as graph state only (as the original does): no packet is routed between bridges; put a VM on both to route`);
      }
    },
    routes: (b) => [...b.graph.routes].sort(),
    enable_uplink: async (b) => (await b.net()).setUplink(b.id, true),
    disable_uplink: async (b) => (await b.net()).setUplink(b.id, false),
  },
};
