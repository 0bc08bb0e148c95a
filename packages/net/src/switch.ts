/**
 * One bridge: a learning Ethernet switch with one port per attached NIC. Each
 * port is a unix stream socket the switch listens on; QEMU's
 * `-netdev stream,server=off,addr.type=unix,...` connects to it. Every frame
 * crosses this object, so impairments are applied and counted here, outside
 * the guests, and captures (capture.ts) record them.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Capturer, type CaptureSink } from './capture.js';
import { ETHERNET_HEADER, RECORD_HEADER, RecordDecoder, isGroupKey, macKey, recordDestination, recordSource } from './frame.js';
import { CompiledPolicy, checkPolicy, emptyImpairments, type Pacer, type SwitchPolicy } from './impairments.js';
import { Rng } from './rng.js';

/** Per-port traffic, as the NIC sees it: tx = frames the VM sent, rx = frames delivered to it. */
export interface PortCounters {
  rx_packets: number;
  rx_bytes: number;
  tx_packets: number;
  tx_bytes: number;
  /** Frames on their way to this port that the bridge discarded (impairments, a full queue). */
  rx_dropped: number;
  /** Deliveries of this port's frames that the bridge discarded (one per destination of a flooded frame). */
  tx_dropped: number;
}

export interface SwitchOptions {
  /** Directory for the port sockets; created if missing, removed by close(). */
  dir: string;
  /** For messages. */
  name?: string;
  /** Initial policy seed (the drop-rate generator). Default 1. */
  seed?: number;
  /** Bytes that may wait for one port (its socket buffer plus delayed frames) before new frames to it are dropped. Default 4 MiB. */
  queueLimitBytes?: number;
}

interface Delayed {
  due: number;
  record: Buffer;
  from: Port;
}

interface Port {
  id: string;
  path: string;
  mac: number | undefined;
  server: Server;
  conn: Socket | undefined;
  decoder: RecordDecoder;
  counters: PortCounters;
  /** Frames waiting out their latency, by due time. */
  delayed: Delayed[];
  delayedBytes: number;
  timer: NodeJS.Timeout | undefined;
  timerDue: number;
}

export const zeroCounters = (): PortCounters => ({ rx_packets: 0, rx_bytes: 0, tx_packets: 0, tx_bytes: 0, rx_dropped: 0, tx_dropped: 0 });

/** Unix socket paths are limited to 107 bytes. */
const MAX_SOCKET_PATH = 107;

export class Switch {
  readonly dir: string;
  readonly name: string;
  private readonly ports = new Map<string, Port>();
  /** MAC → port id: the ports' own MACs, then what the source addresses of frames teach. */
  private readonly table = new Map<number, string>();
  private policy: CompiledPolicy;
  private rng: Rng;
  private nextPort = 1;
  private closed = false;
  private readonly queueLimit: number;
  private readonly corked = new Set<Socket>();
  /** Bandwidth pacers: when each link (impairments.ts, Pacer.key) is free again, in performance.now() ms. */
  private readonly linkFree = new Map<string, number>();
  private readonly captures = new Map<number, Capturer>();

  constructor(opts: SwitchOptions) {
    this.dir = opts.dir;
    this.name = opts.name ?? 'switch';
    this.queueLimit = opts.queueLimitBytes ?? 4 * 1024 * 1024;
    const seed = opts.seed ?? 1;
    this.policy = new CompiledPolicy({ ...emptyImpairments(), detached: [], seed });
    this.rng = new Rng(seed);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /**
   * Adds a port and listens on its socket; resolves with the socket path
   * (what `-netdev stream` connects to). `mac`: the NIC's own address, known
   * to the switch before its first frame. A new connection to a port replaces
   * the old one (the same NIC in a new QEMU).
   */
  async addPort(id: string, mac?: string): Promise<string> {
    if (this.closed) throw new Error(`${this.name}: closed`);
    if (this.ports.has(id)) throw new Error(`${this.name}: port ${JSON.stringify(id)} exists already`);
    const path = join(this.dir, `p${this.nextPort++}.sock`);
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) throw new Error(`${this.name}: socket path too long for a unix socket: ${path}`);
    const port: Port = {
      id, path, mac: mac === undefined ? undefined : macKey(mac), server: createServer(), conn: undefined,
      decoder: new RecordDecoder(), counters: zeroCounters(), delayed: [], delayedBytes: 0, timer: undefined, timerDue: 0,
    };
    port.server.on('connection', (sock) => this.connected(port, sock));
    await new Promise<void>((resolve, reject) => {
      port.server.once('error', reject);
      port.server.listen(path, () => {
        port.server.off('error', reject);
        resolve();
      });
    });
    port.server.on('error', () => {}); // after listen: nothing to report to anyone
    this.ports.set(id, port);
    if (port.mac !== undefined) this.table.set(port.mac, id);
    return path;
  }

  /** Closes the port's socket and connection; frames waiting for it are dropped. */
  async removePort(id: string): Promise<void> {
    const port = this.ports.get(id);
    if (!port) return;
    this.ports.delete(id);
    for (const [mac, owner] of this.table) if (owner === id) this.table.delete(mac);
    for (const [cid, c] of this.captures) if (c.port === id) this.stopCapture(cid);
    await this.closePort(port);
  }

  portIds(): string[] {
    return [...this.ports.keys()];
  }

  /** Replaces the whole policy. The drop generator restarts from the seed when the drop rules or the seed change. */
  setPolicy(policy: SwitchPolicy): void {
    checkPolicy(policy);
    const old = this.policy.policy;
    if (policy.seed !== old.seed || JSON.stringify(policy.drop) !== JSON.stringify(old.drop)) this.rng = new Rng(policy.seed);
    if (JSON.stringify(policy.bandwidth ?? []) !== JSON.stringify(old.bandwidth ?? [])) this.linkFree.clear();
    this.policy = new CompiledPolicy(structuredClone(policy));
  }

  getPolicy(): SwitchPolicy {
    return structuredClone(this.policy.policy);
  }

  counters(id: string): PortCounters {
    const port = this.ports.get(id);
    if (!port) throw new Error(`${this.name}: no port ${JSON.stringify(id)}`);
    return { ...port.counters };
  }

  /**
   * Starts capture `id`: every frame entering the switch, or with `port` the
   * frames that port's NIC sends and those delivered to it. The sink gets the
   * pcap global header at once. It ends when the switch or the port goes.
   */
  startCapture(id: number, port: string | undefined, sink: CaptureSink): void {
    if (this.closed) throw new Error(`${this.name}: closed`);
    if (this.captures.has(id)) throw new Error(`${this.name}: capture ${id} exists already`);
    if (port !== undefined && !this.ports.has(port)) throw new Error(`${this.name}: no port ${JSON.stringify(port)} to capture`);
    this.captures.set(id, new Capturer(port, sink));
  }

  /** The reader consumed `bytes` of capture `id`; returns the frames it has dropped so far (0 for a capture that is gone). */
  ackCapture(id: number, bytes: number): number {
    const c = this.captures.get(id);
    c?.ack(bytes);
    return c?.dropped ?? 0;
  }

  stopCapture(id: number): void {
    this.captures.get(id)?.end();
    this.captures.delete(id);
  }

  /** Whether a VM's QEMU is connected to the port. */
  isConnected(id: string): boolean {
    return this.ports.get(id)?.conn !== undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.captures.keys()]) this.stopCapture(id);
    const ports = [...this.ports.values()];
    this.ports.clear();
    this.table.clear();
    await Promise.all(ports.map((p) => this.closePort(p)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private connected(port: Port, sock: Socket): void {
    if (this.closed || this.ports.get(port.id) !== port) {
      sock.destroy();
      return;
    }
    port.conn?.destroy();
    port.conn = sock;
    port.decoder = new RecordDecoder();
    sock.setNoDelay?.(true);
    sock.on('data', (chunk: Buffer) => {
      let records: Buffer[];
      try {
        records = port.decoder.push(chunk);
      } catch {
        sock.destroy(); // a corrupt stream: QEMU sees the link go down
        return;
      }
      for (const r of records) this.forward(port, r);
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      if (port.conn === sock) port.conn = undefined;
    });
  }

  private async closePort(port: Port): Promise<void> {
    clearTimeout(port.timer);
    port.delayed = [];
    port.delayedBytes = 0;
    port.conn?.destroy();
    port.conn = undefined;
    await new Promise<void>((resolve) => port.server.close(() => resolve()));
    rmSync(port.path, { force: true });
  }

  /** One frame from `from`: learn its source, pick the destinations, apply the policy, deliver or queue. */
  private forward(from: Port, record: Buffer): void {
    const bytes = record.length - RECORD_HEADER;
    from.counters.tx_packets++;
    from.counters.tx_bytes += bytes;
    if (this.captures.size > 0) for (const c of this.captures.values()) if (c.port === undefined || c.port === from.id) c.add(record.subarray(RECORD_HEADER));
    if (bytes < ETHERNET_HEADER) {
      from.counters.tx_dropped++; // a runt: nothing to switch on
      return;
    }
    const src = recordSource(record);
    if (!isGroupKey(src)) this.table.set(src, from.id);
    const dst = recordDestination(record);
    const owner = isGroupKey(dst) ? undefined : this.table.get(dst);
    if (owner !== undefined) {
      if (owner === from.id) return; // for itself: a switch does not send it back
      const to = this.ports.get(owner);
      if (to) this.deliverVia(from, to, record, bytes);
      return;
    }
    // Broadcast, multicast or an address not learnt yet: flood.
    for (const to of this.ports.values()) if (to !== from) this.deliverVia(from, to, record, bytes);
  }

  private deliverVia(from: Port, to: Port, record: Buffer, bytes: number): void {
    const v = this.policy.verdict(from.id, to.id);
    if (v.block !== undefined || (v.dropP > 0 && (v.dropP >= 1 || this.rng.next() < v.dropP))) {
      from.counters.tx_dropped++;
      to.counters.rx_dropped++;
      return;
    }
    if (!to.conn) return; // no NIC behind the port (VM not started, or gone): the wire ends here
    if (to.conn.writableLength + to.delayedBytes + bytes > this.queueLimit) {
      from.counters.tx_dropped++;
      to.counters.rx_dropped++;
      return;
    }
    const wait = v.delayMs + (v.pace.length > 0 ? this.pace(v.pace, bytes) : 0);
    if (wait > 0) this.delay(to, { due: performance.now() + wait, record, from });
    else this.write(to, record, bytes);
  }

  private write(to: Port, record: Buffer, bytes: number): void {
    const conn = to.conn;
    if (!conn) return;
    // Frames for one port within one turn of the event loop leave in one writev.
    if (!this.corked.has(conn)) {
      if (this.corked.size === 0) process.nextTick(() => this.uncorkAll());
      conn.cork();
      this.corked.add(conn);
    }
    conn.write(record);
    if (this.captures.size > 0) for (const c of this.captures.values()) if (c.port === to.id) c.add(record.subarray(RECORD_HEADER));
    to.counters.rx_packets++;
    to.counters.rx_bytes += bytes;
  }

  /**
   * How long a frame of `bytes` waits for its links: each is busy with the
   * frames before it, then with this one (at bps), so the frame arrives once
   * it has been wholly sent, as on a real link of that speed (no burst).
   */
  private pace(pacers: Pacer[], bytes: number): number {
    const now = performance.now();
    let done = now;
    for (const p of pacers) {
      const finish = Math.max(now, this.linkFree.get(p.key) ?? 0) + (bytes * 8 * 1000) / p.bps;
      this.linkFree.set(p.key, finish);
      done = Math.max(done, finish);
    }
    return done - now;
  }

  private uncorkAll(): void {
    for (const c of this.corked) c.uncork();
    this.corked.clear();
  }

  private delay(to: Port, d: Delayed): void {
    // Keep due order; a frame is mostly due after the last one, so search from the end.
    let i = to.delayed.length;
    while (i > 0 && to.delayed[i - 1].due > d.due) i--;
    to.delayed.splice(i, 0, d);
    to.delayedBytes += d.record.length;
    this.arm(to);
  }

  private arm(to: Port): void {
    const head = to.delayed[0];
    if (!head) return;
    if (to.timer && to.timerDue <= head.due) return;
    clearTimeout(to.timer);
    to.timerDue = head.due;
    to.timer = setTimeout(() => this.release(to), Math.max(0, Math.ceil(head.due - performance.now())));
  }

  private release(to: Port): void {
    to.timer = undefined;
    // Never early: a timer that fires before the head is due just re-arms.
    const now = performance.now();
    while (to.delayed.length > 0 && to.delayed[0].due <= now) {
      const d = to.delayed.shift()!;
      to.delayedBytes -= d.record.length;
      if (this.ports.get(to.id) !== to) return;
      // The policy may have changed while the frame waited: a cut made meanwhile drops it.
      const v = this.policy.verdict(d.from.id, to.id);
      if (v.block !== undefined) {
        d.from.counters.tx_dropped++;
        to.counters.rx_dropped++;
        continue;
      }
      this.write(to, d.record, d.record.length - RECORD_HEADER);
    }
    this.arm(to);
  }
}
