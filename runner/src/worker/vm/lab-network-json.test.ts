// lab.json's network on real files: written and read back through writeLabIndex/readLabIndex.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NetworkState } from '@provium/net';
import { BridgeGraph, type GraphRecord } from './bridge-graph.js';
import { readLabIndex, writeLabIndex } from './snapshots.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function snapDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'provium-labjson-'));
  dirs.push(d);
  return d;
}

const impairments = { partitions: [], isolated: [], latency: [], drop: [], bandwidth: [] };
const state = (cut: boolean): NetworkState => ({
  version: 1,
  bridges: [{ id: 'lan', name: 'lan', subnet: '10.9.0.0/24', seed: 3, impairments: { ...impairments, ...(cut ? { cutAll: true as const } : {}) } }],
  vms: [],
  nics: [],
});
const graph: GraphRecord = { members: ['b', 'ghost'], isolated: ['ghost'], partitions: [['name:ghost', 'vm:a']], directional_partitions: [['name:b', 'name:ghost']], routes: ['wan'] };

/** A lab.json whose lan bridge has these impairments and graph. */
function withLan(extra: { impairments?: object; graph?: unknown }): string {
  const d = snapDir();
  const bridge = { id: 'lan', name: 'lan', subnet: '10.9.0.0/24', seed: 3, impairments: { ...impairments, ...extra.impairments }, ...(extra.graph === undefined ? {} : { graph: extra.graph }) };
  writeFileSync(path.join(d, 'lab.json'), JSON.stringify({ format: 1, vms: [], network: { version: 1, bridges: [bridge], vms: [], nics: [] } }));
  return d;
}

describe('lab.json network', () => {
  it('writes the cut flag as fully_partitioned and the graph beside the bridge; reads both back', () => {
    const d = snapDir();
    writeLabIndex(d, { format: 1, vms: [], network: { state: state(true), graphs: { lan: graph } } });
    const bridge = JSON.parse(readFileSync(path.join(d, 'lab.json'), 'utf8')).network.bridges[0];
    expect(bridge.impairments).toEqual({ ...impairments, fully_partitioned: true });
    expect(bridge.graph).toEqual(graph);
    expect(readLabIndex(d).network).toEqual({ state: state(true), graphs: { lan: graph } });
  });

  it('reads an old lab.json: cutAll is the cut flag, no graph is an empty one', () => {
    expect(readLabIndex(withLan({ impairments: { cutAll: true } })).network).toEqual({ state: state(true), graphs: {} });
    expect(readLabIndex(withLan({ impairments: { fully_partitioned: false } })).network?.state).toEqual(state(false));
  });

  it('names the file, the bridge and the field of a bad entry', () => {
    const bad = (extra: { impairments?: object; graph?: unknown }) => {
      const d = withLan(extra);
      return () => readLabIndex(d);
    };
    expect(bad({ impairments: { fully_partitioned: 'yes' } })).toThrow(/lab\.json: network: bridge "lan": impairments\.fully_partitioned must be true or false, got "yes"; take the snapshot again/);
    expect(bad({ graph: { ...graph, partitions: [['ghost']] } })).toThrow(/bridge "lan": graph\.partitions\[1\] must be two ends \("vm:<id>" or "name:<name>"\), got \["ghost"\]/);
    expect(bad({ graph: { ...graph, members: 'b' } })).toThrow(/graph\.members must be a list of names, got "b"/);
    expect(bad({ graph: [] })).toThrow(/bridge "lan": graph must be an object, got \[\]/);
  });

  it('a bridge graph round-trips through its record, VM ends moved between prefixes', () => {
    const g = new BridgeGraph();
    g.members.add('ghost');
    g.partition(BridgeGraph.nameKey('ghost'), BridgeGraph.vmKey('pair/a'));
    g.partitionOneWay(BridgeGraph.vmKey('pair/a'), BridgeGraph.nameKey('ghost'));
    const record = g.toRecord((id) => id.replace(/^pair\//, ''));
    expect(record).toMatchObject({ partitions: [['name:ghost', 'vm:a']], directional_partitions: [['vm:a', 'name:ghost']] });
    const copy = new BridgeGraph();
    copy.load(record, (id) => `copy/${id}`);
    expect(copy.isPartitioned(BridgeGraph.vmKey('copy/a'), BridgeGraph.nameKey('ghost'))).toBe(true);
    expect(copy.toRecord((id) => id.replace(/^copy\//, ''))).toEqual(record);
    expect(new BridgeGraph().toRecord((id) => id)).toBeUndefined();
  });
});
