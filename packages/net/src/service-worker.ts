/**
 * The network thread: every switch of a provium process runs here, so frames
 * keep flowing while a worker thread is busy running Lua (or stuck in a loop)
 * and while the main thread is busy. Each connected backend (a MessagePort)
 * owns its switches; when its port closes — its thread ended or was
 * terminated — they are closed with it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createNetDir } from './dirs.js';
import type { ControlMessage, ControlReply, NetEvent, NetReply, NetRequestMessage, NetStats } from './service-protocol.js';
import { Switch } from './switch.js';

interface Client {
  dir: string;
  switches: Map<string, Switch>;
  next: number;
}

const control = parentPort!;
let dir: string;
try {
  dir = createNetDir((workerData as { root?: string } | undefined)?.root);
} catch (err) {
  control.postMessage({ kind: 'failed', error: (err as Error).message } satisfies ControlReply);
  throw err;
}
const clients = new Set<Client>();
let nextClient = 1;

async function closeClient(c: Client): Promise<void> {
  clients.delete(c);
  const all = [...c.switches.values()];
  c.switches.clear();
  await Promise.all(all.map((s) => s.close()));
  rmSync(c.dir, { recursive: true, force: true });
}

function serve(port: MessagePort): void {
  const client: Client = { dir: join(dir, `c${nextClient++}`), switches: new Map(), next: 1 };
  clients.add(client);
  const sw = (id: string): Switch => {
    const s = client.switches.get(id);
    if (!s) throw new Error(`no switch ${id} (closed?)`);
    return s;
  };
  port.on('message', (msg: NetRequestMessage) => {
    void (async (): Promise<unknown> => {
      switch (msg.op) {
        case 'create': {
          const id = `s${client.next++}`;
          client.switches.set(id, new Switch({ dir: join(client.dir, id), name: `bridge "${msg.name}"`, seed: msg.seed }));
          return id;
        }
        case 'addPort':
          return sw(msg.sw).addPort(msg.port, msg.mac);
        case 'removePort':
          return sw(msg.sw).removePort(msg.port);
        case 'setPolicy':
          return sw(msg.sw).setPolicy(msg.policy);
        case 'counters':
          return sw(msg.sw).counters(msg.port);
        case 'captureStart': {
          const capture = msg.capture;
          sw(msg.sw).startCapture(capture, msg.port, {
            chunk: (data) => {
              // Moved, not copied, when the buffer is its own memory (capture.ts makes it so).
              const own = data.byteOffset === 0 && data.buffer.byteLength === data.length ? data : Buffer.from(data);
              port.postMessage({ capture, data: own } satisfies NetEvent, [own.buffer as ArrayBuffer]);
            },
            end: () => port.postMessage({ capture, end: true } satisfies NetEvent),
          });
          return undefined;
        }
        case 'captureAck':
          return client.switches.get(msg.sw)?.ackCapture(msg.capture, msg.bytes) ?? 0;
        case 'captureStop':
          return client.switches.get(msg.sw)?.stopCapture(msg.capture);
        case 'closeSwitch': {
          const s = client.switches.get(msg.sw);
          client.switches.delete(msg.sw);
          return s?.close();
        }
        case 'closeAll':
          await closeClient(client); // the client closes the port once it has the answer
          return undefined;
      }
    })().then(
      (value) => port.postMessage({ id: msg.id, ok: true, value: value ?? null } satisfies NetReply),
      (err: Error) => port.postMessage({ id: msg.id, ok: false, error: err.message } satisfies NetReply),
    );
  });
  // The other side's thread ended (or it closed the port): its switches go with it.
  port.on('close', () => {
    if (clients.has(client)) void closeClient(client);
  });
}

function stats(): NetStats {
  let switches = 0;
  let ports = 0;
  for (const c of clients) {
    switches += c.switches.size;
    for (const s of c.switches.values()) ports += s.portIds().length;
  }
  return { clients: clients.size, switches, ports, dir };
}

control.on('message', (msg: ControlMessage) => {
  switch (msg.kind) {
    case 'attach':
      serve(msg.port);
      return;
    case 'stats':
      control.postMessage({ kind: 'reply', id: msg.id, value: stats() } satisfies ControlReply);
      return;
    case 'stop':
      void Promise.all([...clients].map(closeClient)).then(() => {
        rmSync(dir, { recursive: true, force: true });
        control.postMessage({ kind: 'reply', id: msg.id, value: null } satisfies ControlReply);
      });
      return;
  }
});
control.postMessage({ kind: 'ready', dir } satisfies ControlReply);
