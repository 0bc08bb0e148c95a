/** Messages between RemoteBackend (any thread) and the network thread. */
import type { MessagePort } from 'node:worker_threads';
import type { SwitchPolicy } from './impairments.js';

export type NetRequest =
  | { op: 'create'; name: string; seed?: number }
  | { op: 'addPort'; sw: string; port: string; mac?: string }
  | { op: 'removePort'; sw: string; port: string }
  | { op: 'setPolicy'; sw: string; policy: SwitchPolicy }
  | { op: 'counters'; sw: string; port: string }
  | { op: 'captureStart'; sw: string; capture: number; port?: string }
  | { op: 'captureAck'; sw: string; capture: number; bytes: number }
  | { op: 'captureStop'; sw: string; capture: number }
  | { op: 'closeSwitch'; sw: string }
  | { op: 'closeAll' };

export type NetRequestMessage = NetRequest & { id: number };

/** Bytes of a capture (pcap, whole records), or its end; sent by the network thread unasked. Ids are the client's. */
export type NetEvent = { capture: number; data: Uint8Array } | { capture: number; end: true };

export type NetReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** The network thread's own control messages (from the thread that started it). */
export type ControlMessage =
  | { kind: 'attach'; port: MessagePort }
  | { kind: 'stats'; id: number }
  | { kind: 'stop'; id: number };

export type ControlReply = { kind: 'reply'; id: number; value: unknown } | { kind: 'ready'; dir: string } | { kind: 'failed'; error: string };

export interface NetStats {
  /** Connected backends (one per thread that uses the network). */
  clients: number;
  switches: number;
  ports: number;
  /** The thread's socket directory. */
  dir: string;
}
