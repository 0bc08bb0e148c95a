/**
 * The network of a lab snapshot, as lab.json writes it: the file network's
 * state (@provium/net's NetworkState, ids relative to the lab) with each
 * bridge's graph state (bridge-graph.ts) beside it under `graph`, and the
 * cut flag of partition_all() under the original's name,
 * `impairments.fully_partitioned` (one flag, never one entry per pair).
 * lab.json files written before carry the flag as `impairments.cutAll`, and
 * no graph: both are read all the same.
 */
import type { Impairments, NetworkState } from '@provium/net';
import type { GraphRecord } from './bridge-graph.js';

/** A lab snapshot's network in memory: the state as the network takes it, and the graph records by bridge id. */
export interface SnapshotNetwork {
  state: NetworkState;
  graphs: Record<string, GraphRecord>;
}

type JsonImpairments = Omit<Impairments, 'cutAll'> & { fully_partitioned?: boolean };
type JsonBridge = Omit<NetworkState['bridges'][number], 'impairments'> & { impairments: JsonImpairments; graph?: GraphRecord };

export function networkToJson(net: SnapshotNetwork): unknown {
  return {
    ...net.state,
    bridges: net.state.bridges.map((b): JsonBridge => {
      const { cutAll, ...impairments } = b.impairments;
      const graph = net.graphs[b.id];
      return { ...b, impairments: { ...impairments, ...(cutAll ? { fully_partitioned: true } : {}) }, ...(graph ? { graph } : {}) };
    }),
  };
}

/** lab.json's `network` read back; `file` names lab.json in the errors. */
export function networkFromJson(raw: unknown, file: string): SnapshotNetwork {
  const bad = (msg: string): never => {
    throw new Error(`${file}: network: ${msg}; take the snapshot again`);
  };
  const json = raw as { bridges?: unknown } | null;
  if (!json || typeof json !== 'object' || !Array.isArray(json.bridges)) return bad('expected an object with a list of bridges');
  const graphs: Record<string, GraphRecord> = {};
  const bridges = (json.bridges as unknown[]).map((x, i) => {
    const b = x as Partial<JsonBridge> & { impairments?: JsonImpairments & { cutAll?: unknown } };
    if (!b || typeof b !== 'object' || typeof b.id !== 'string' || !b.impairments || typeof b.impairments !== 'object') return bad(`bridge ${i + 1} needs an id and impairments`);
    const { fully_partitioned: flag, cutAll, ...impairments } = b.impairments;
    if (flag !== undefined && typeof flag !== 'boolean') bad(`bridge "${b.id}": impairments.fully_partitioned must be true or false, got ${JSON.stringify(flag)}`);
    if (cutAll !== undefined && cutAll !== true) bad(`bridge "${b.id}": impairments.cutAll must be true or absent, got ${JSON.stringify(cutAll)}`);
    const { graph, ...bridge } = b;
    if (graph !== undefined) graphs[b.id] = checkGraph(graph, (msg) => bad(`bridge "${b.id}": graph${msg}`));
    return { ...bridge, impairments: { ...impairments, ...(flag === true || cutAll === true ? { cutAll: true as const } : {}) } } as NetworkState['bridges'][number];
  });
  return { state: { ...(json as NetworkState), bridges }, graphs };
}

/** An end of a pair: `vm:<id>` or `name:<name>`. */
const END = /^(vm|name):./s;

function checkGraph(raw: unknown, bad: (msg: string) => never): GraphRecord {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) bad(` must be an object, got ${JSON.stringify(raw)}`);
  const g = raw as Record<string, unknown>;
  const names = (k: keyof GraphRecord): string[] => {
    const v = g[k] ?? [];
    if (!Array.isArray(v) || !v.every((n) => typeof n === 'string')) bad(`.${k} must be a list of names, got ${JSON.stringify(v)}`);
    return v as string[];
  };
  const pairs = (k: keyof GraphRecord): [string, string][] => {
    const v = g[k] ?? [];
    if (!Array.isArray(v)) bad(`.${k} must be a list of pairs, got ${JSON.stringify(v)}`);
    (v as unknown[]).forEach((p, i) => {
      if (!Array.isArray(p) || p.length !== 2 || !p.every((e) => typeof e === 'string' && END.test(e))) bad(`.${k}[${i + 1}] must be two ends ("vm:<id>" or "name:<name>"), got ${JSON.stringify(p)}`);
    });
    return v as [string, string][];
  };
  return { members: names('members'), isolated: names('isolated'), partitions: pairs('partitions'), directional_partitions: pairs('directional_partitions'), routes: names('routes') };
}
