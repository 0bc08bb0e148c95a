/**
 * `lab:snapshot(dir?)`: every started VM of a lab, one snapshot file each,
 * plus lab.json (the VMs and the network with its graph state, ids relative
 * to the lab), written atomically: beside `dir`, then renamed. A lab with
 * bridges and no running VM is snapshotted too: its lab.json holds the
 * network only. A lab fixture build's snapshot (`forCache`) prepares each
 * guest as a VM fixture's does (snapshot-prep.ts: a systemd guest's boot
 * finished, free blocks trimmed, free memory zeroed), one VM after another,
 * and stores each VM resumed from a fixture over that fixture's cache entry
 * (a VM fixture's, or a VM file of a lab fixture's) as a derived VM fixture
 * is; the cache records the entries it needs as its parents.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Lab } from './lab.js';
import type { GraphRecord } from './bridge-graph.js';
import { moveId, renameState } from './network.js';
import { refuseOpenStreams } from './open-streams.js';
import { LabSnapshotHandle, writeLabIndex, type LabIndex } from './snapshots.js';

export async function snapshotLab(lab: Lab, dir: string, forCache = false): Promise<LabSnapshotHandle> {
  const vms = [...lab.vms.values()].filter((v) => v.session.state === 'booted' || v.session.state === 'paused');
  if (vms.length === 0 && lab.bridges.size === 0) throw new Error('lab:snapshot(): the lab has no running VM and no bridge to snapshot; boot its VMs or make a bridge first');
  const captures = [...lab.bridges.values()].flatMap((b) => [...b.openCaptures.values()]);
  if (captures.length > 0) throw new Error(`lab:snapshot(): cannot snapshot with packet captures open; close them first (capture:close()):\n${captures.map((w) => `  ${w}`).join('\n')}`);
  if (lab.labs.size > 0) throw new Error('lab:snapshot(): snapshots of labs with sub-labs are not available yet; snapshot the sub-lab itself');
  for (const v of vms) refuseOpenStreams(v.session.label, v.session.openStreams); // before any VM is snapshotted
  const network = lab.network?.hasNetwork() ? await lab.network.get() : undefined;
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`lab:snapshot(): directory ${dir} is not empty; give a new or empty directory`);
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const index: LabIndex = { format: 1, vms: [] };
    if (network && (lab.bridges.size > 0 || vms.some((v) => lab.network!.hasNics(v.session.netId)))) {
      const state = network.state({ vms: vms.map((v) => v.session.netId), bridges: [...lab.bridges.values()].map((b) => b.id) });
      index.network = { state: renameState(state, lab.prefix, ''), graphs: graphRecords(lab, state.bridges.map((b) => b.id)) };
    }
    for (const v of vms) {
      const file = `${v.session.name}.snap`;
      const taken = await v.session.snapshot(path.join(tmp, file), forCache);
      const desc = taken.header.vm as { profile: string; memory: number; cpus: number };
      index.vms.push({ name: v.session.name, file, profile: desc.profile, memory: desc.memory, cpus: desc.cpus });
    }
    writeLabIndex(tmp, index);
    rmSync(dir, { recursive: true, force: true }); // an empty directory the author gave
    renameSync(tmp, dir);
    return new LabSnapshotHandle(dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** The graph state of the bridges with these ids (the lab's and those its VMs are on), by their ids relative to the lab. */
function graphRecords(lab: Lab, ids: string[]): Record<string, GraphRecord> {
  const handles = new Map(lab.root.allLabs().flatMap((l) => [...l.bridges.values()]).map((b) => [b.id, b]));
  const relative = (id: string) => moveId(id, lab.prefix, '');
  const records = ids.flatMap((id) => {
    const record = handles.get(id)?.graph.toRecord(relative);
    return record ? [[relative(id), record] as const] : [];
  });
  return Object.fromEntries(records);
}
