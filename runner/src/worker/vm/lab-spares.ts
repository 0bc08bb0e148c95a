/**
 * Labs restored ahead of time for the next resume of a lab fixture, per
 * worker thread: spares.ts for a whole lab. After a lab fixture is resumed
 * (RAM mapped privately, no disks), the worker restores the lab again in the
 * background: its network on new switches of the worker's own (a client of
 * the network thread that outlives files), every VM launched on them at the
 * lowest CPU priority, loaded, run to its agent's handshake and one
 * `/bin/sh -c true`, and paused (unless taken before: spares.ts). The next
 * resume of that fixture takes it: its network joins the file's
 * (LabNetwork.adopt), its VMs are resumed and get their clocks set. A spare lab is taken once; what is left of one dies
 * with its worker thread (QEMU's parent-death signal; the network thread
 * closes the switches of a client whose port closed) and the run removes its
 * run dirs when it ends, as for single-VM spares.
 */
import { MessageChannel } from 'node:worker_threads';
import type { LabNetwork, NetworkState, NicRecord, RemoteBackend } from '@provium/net';
import type { RestoreLaunchOptions, SnapshotTemplate } from '@provium/qemu';
import type { HostServices, SnapshotTemplateInfo } from '@provium/types';
import { UNPLUG_TIMEOUT_MS, renameState } from './network.js';
import { restoreLaunchOptions } from './kernel-format.js';
import { BOOT_TIMEOUT_MS } from './vm-life.js';
import type { LabIndex } from './snapshots.js';
import { primeRestored, reclaimPriority, spareNice, type Priming, type Spare } from './spares.js';
import { traced } from './trace.js';

/** One VM of a lab spare to make: the template and launch line its resume would use. */
interface LabSpareVm {
  name: string;
  template: SnapshotTemplate;
  /** The launch line without the network's arguments (the spare's own switches give those). */
  opts: RestoreLaunchOptions;
  /** The snapshot's NIC devices and what its guest holds of the lab's configuration. */
  nics: NicRecord[];
  guestNet: string | undefined;
}

/** What a lab spare is made from: values only, no file's objects (it outlives the file that made it). */
interface LabSparePlan {
  /** The fixture's last path part: the spare's network ids start `<copyLabel>.<n>/`. */
  copyLabel: string;
  /** lab.json's network, ids relative to the lab; undefined for a lab with no bridges. */
  network: NetworkState | undefined;
  vms: LabSpareVm[];
  handshakeTimeoutMs: number;
  unplugTimeoutMs: number;
}

/** A lab restored ahead: its network (ids under `prefix`) and each VM's paused QEMU with its agent, by name. */
export interface LabSpare {
  prefix: string;
  net: LabNetwork | undefined;
  vms: Map<string, Spare>;
}

/** A lab being restored as a new copy of a lab fixture: its cache entry (the spares' key), and the spare lab it starts from, if any. */
export interface FixtureCopy {
  key: string;
  /** The fixture's last path part (spares' network ids). */
  copyLabel: string;
  spare: LabSpare | undefined;
}

/**
 * After `copy` was restored (RAM mapped privately) from `index` and its
 * `templates`: starts making the next spare lab of the fixture, when its VMs
 * have no disks (each restore makes images of its own, which a spare made
 * ahead could not know) and their snapshots record their NICs.
 */
export async function keepSpareLab(copy: FixtureCopy, index: LabIndex, templates: SnapshotTemplateInfo[], host: HostServices, timeoutScale: number): Promise<void> {
  if (templates.some((t) => (t.disks?.length ?? 0) > 0)) return;
  const network = index.network?.state;
  const recorded = templates.map((t) => t.header.vm as { profile: string; append: string; nics?: unknown; guestNet?: unknown });
  const nicsOk = (nics: unknown) => (network ? Array.isArray(nics) : nics === undefined || (Array.isArray(nics) && nics.length === 0));
  if (!recorded.every((r) => nicsOk(r.nics))) return;
  const { checkNicRecords } = await import('@provium/net');
  const vms = await Promise.all(
    index.vms.map(async (v, i): Promise<LabSpareVm> => {
      const r = recorded[i];
      const t = templates[i];
      return {
        name: v.name,
        template: { header: t.header as never, state: t.state, ...(t.ram ? { ram: t.ram } : {}) },
        opts: restoreLaunchOptions(v.name, await host.prepareProfile(r.profile), r, [], []),
        nics: checkNicRecords(r.nics ?? [], `vm "${v.name}"`),
        guestNet: typeof r.guestNet === 'string' ? r.guestNet : undefined,
      };
    }),
  );
  const net = network ? await spareBackend(host) : undefined;
  const plan = { copyLabel: copy.copyLabel, network, vms, handshakeTimeoutMs: BOOT_TIMEOUT_MS * timeoutScale, unplugTimeoutMs: UNPLUG_TIMEOUT_MS * timeoutScale };
  startLabSpare(copy.key, plan, net);
}

/** Lab fixture copies of this worker: numbers the network ids of each (unique in every file the worker runs). */
let copies = 0;

/** A new prefix for the network ids of a copy of a lab fixture. */
export function newCopyPrefix(copyLabel: string): string {
  return `${copyLabel}.${++copies}/`;
}

interface Pending {
  /** Sets the spare's QEMUs (those started and those still starting) to the normal priority: a resume waits for them now. */
  claim(): void;
  /** False when the host refused a priority change (root without CAP_SYS_NICE): such a spare is not used. */
  reniced(): boolean;
  /** The lab once every agent has answered (undefined if one never does). */
  spare: Promise<LabSpare | undefined>;
  /** The lab as its resume takes it: once every agent has answered, each VM's warm-up ended or not started (spares.ts Priming). */
  take(): Promise<LabSpare | undefined>;
}

/** Fixtures with a spare lab kept per worker: each holds a lab's worth of QEMUs. */
const MAX_KEYS = 2;
/** Oldest key first (a used key is inserted again). */
const slots = new Map<string, Pending | undefined>();

let backend: Promise<RemoteBackend> | undefined;

/**
 * The worker's own client of the network thread, for the switches of spare
 * labs (a file's client is closed when the file ends; a spare outlives it).
 * Connected through `host` once per worker.
 */
function spareBackend(host: HostServices): Promise<RemoteBackend> {
  if (!backend) {
    backend = (async () => {
      const { RemoteBackend } = await import('@provium/net');
      const { port1, port2 } = new MessageChannel();
      await host.netConnect(port2);
      return new RemoteBackend(port1);
    })();
    backend.catch(() => (backend = undefined)); // the next lab restore tries again
  }
  return backend;
}

/** The spare lab kept for `key` (waiting for it while it is made), else undefined. */
export async function takeLabSpare(key: string): Promise<LabSpare | undefined> {
  const pending = slots.get(key);
  if (!pending) return undefined;
  slots.set(key, undefined);
  pending.claim();
  const spare = await pending.take();
  if (!spare) return undefined;
  const alive = [...spare.vms.values()].every((s) => s.qemu.exit === undefined && !s.qemu.qmp.closed && s.agent.closedReason === undefined);
  if (alive && pending.reniced()) return spare;
  await discardLabSpare(spare);
  return undefined;
}

/** Ends a spare lab nobody takes: its QEMUs and its switches. */
export async function discardLabSpare(spare: LabSpare | undefined): Promise<void> {
  if (!spare) return;
  await Promise.all([...spare.vms.values()].map(async (s) => {
    await s.agent.close().catch(() => {});
    await s.qemu.kill();
  }));
  await spare.net?.close();
}

/** Starts making a spare lab for `key` unless one is kept or being made. Failures only mean there is none. */
function startLabSpare(key: string, plan: LabSparePlan, net: RemoteBackend | undefined): void {
  if (slots.get(key)) return;
  slots.delete(key);
  if (slots.size >= MAX_KEYS) {
    const [oldest, old] = slots.entries().next().value as [string, Pending | undefined];
    slots.delete(oldest);
    void old?.spare.then(discardLabSpare);
  }
  slots.set(key, makeLabSpare(plan, net));
}

function makeLabSpare(plan: LabSparePlan, backend: RemoteBackend | undefined): Pending {
  const prefix = newCopyPrefix(plan.copyLabel);
  let net: LabNetwork | undefined;
  // QEMUs as soon as their processes exist: a claim sets them back to the normal priority while they still start.
  const spawned: { renice(value: number): void }[] = [];
  let claimed = false;
  let reniced = true;
  const onSpawn = (q: { renice(value: number): void }) => {
    spawned.push(q);
    if (claimed) reniced &&= reclaimPriority(q);
  };
  const launches = (async () => {
    const { launchForRestore } = await import('@provium/qemu');
    if (plan.network) {
      const { LabNetwork } = await import('@provium/net');
      net = new LabNetwork(backend!, { unplugTimeoutMs: plan.unplugTimeoutMs });
      await traced('spare switches', plan.copyLabel, () => net!.importState(renameState(plan.network!, '', prefix)));
    }
    const nice = claimed ? undefined : spareNice();
    return plan.vms.map((v) => {
      const id = `${prefix}${v.name}`;
      net?.addVm(id, { name: v.name });
      const extraArgs = net ? net.restoreArgs(id, v.nics, v.guestNet) : [];
      return traced('spare qemu start', v.name, () => launchForRestore(v.template, { ...v.opts, extraArgs, onSpawn, ...(nice === undefined ? {} : { nice }) }, 'private'));
    });
  })();
  // Taken while its VMs still start or answer: none of them starts its warm-up from then on.
  let taken = false;
  let primings: Priming[] = [];
  const claimEach = () => primings.forEach((p) => p.claim().catch(() => {}));
  const spare = launches.then(async (all) => {
    const results = await Promise.allSettled(all);
    const qemus = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (qemus.length < results.length) {
      await Promise.all(qemus.map((q) => q.kill()));
      await net?.close();
      return undefined;
    }
    primings = qemus.map((q, i) => primeRestored(q, plan.vms[i].template, `vm "${plan.vms[i].name}"`, plan.handshakeTimeoutMs));
    if (taken) claimEach();
    const answered = await Promise.allSettled(primings.map((p) => p.answered));
    const vms = new Map(answered.flatMap((r, i) => (r.status === 'fulfilled' ? [[plan.vms[i].name, r.value] as const] : [])));
    const made: LabSpare = { prefix, net, vms };
    if (vms.size === qemus.length) return { made, primings };
    await discardLabSpare(made);
    return undefined;
  });
  const made = spare.catch(async () => {
    await net?.close();
    return undefined;
  });
  return {
    claim: () => {
      claimed = true;
      for (const q of spawned) reniced &&= reclaimPriority(q);
    },
    reniced: () => reniced,
    spare: made.then((m) => m?.made),
    take: async () => {
      taken = true;
      claimEach();
      const m = await made;
      if (!m) return undefined;
      const vms = await Promise.all(m.primings.map((p) => p.claim()));
      return { ...m.made, vms: new Map(plan.vms.map((v, i) => [v.name, vms[i]])) };
    },
  };
}
