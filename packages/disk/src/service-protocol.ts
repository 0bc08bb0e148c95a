/** Messages between DiskClient (any thread) and the disk thread. */
import type { MessagePort } from 'node:worker_threads';
import type { PolicyChange, PolicyState } from './policy.js';
import type { DiskStats } from './server.js';

export type DiskRequest =
  | { op: 'start'; image: string; socketPath: string; name?: string }
  | { op: 'setPolicy'; disk: string; change: PolicyChange }
  | { op: 'policy'; disk: string }
  | { op: 'powerCut'; disk: string }
  | { op: 'stats'; disk: string }
  | { op: 'stop'; disk: string; unflushed: 'commit' | 'drop' }
  | { op: 'closeAll' };

/** What a started disk is, as the disk thread tells it. */
export interface StartedDisk {
  /** The disk's id on its client (`d1`, `d2`, …). */
  id: string;
  /** NBD export name. */
  name: string;
  socketPath: string;
  /** Bytes. */
  size: number;
}

/** The answer to each request. */
export interface DiskAnswers {
  start: StartedDisk;
  setPolicy: PolicyState;
  policy: PolicyState;
  /** Bytes of unflushed writes lost. */
  powerCut: number;
  stats: DiskStats;
  stop: null;
  closeAll: null;
}

export type DiskRequestMessage = DiskRequest & { id: number };

export type DiskReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** The disk thread's own control messages (from the thread that started it). */
export type ControlMessage =
  | { kind: 'attach'; port: MessagePort }
  | { kind: 'stats'; id: number }
  | { kind: 'stop'; id: number };

export type ControlReply = { kind: 'reply'; id: number; value: unknown } | { kind: 'ready' };

export interface DiskServiceStats {
  /** Connected clients (one per thread that uses disks). */
  clients: number;
  /** Disks being served. */
  disks: number;
}
