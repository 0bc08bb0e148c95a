/**
 * The disk thread: every mediated disk of a provium process is served here,
 * so the guest's I/O goes on while the thread that owns the VM is busy
 * running Lua (or stuck in a loop). Each connected client (a MessagePort)
 * owns its disks. A client that closes stops them cleanly (unflushed writes
 * committed); one whose port closes without that — its thread ended or was
 * terminated — loses them, as a machine does when it loses power.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import { DiskServer } from './server.js';
import type { ControlMessage, ControlReply, DiskReply, DiskRequestMessage, DiskServiceStats, StartedDisk } from './service-protocol.js';

interface Client {
  disks: Map<string, DiskServer>;
  next: number;
}

const control = parentPort!;
const clients = new Set<Client>();

async function closeClient(c: Client, unflushed: 'commit' | 'drop'): Promise<void> {
  clients.delete(c);
  const all = [...c.disks.values()];
  c.disks.clear();
  const failed = (await Promise.allSettled(all.map((d) => d.stop(unflushed)))).filter((r) => r.status === 'rejected');
  if (failed.length > 0) throw new Error(failed.map((r) => (r.reason as Error).message).join('; '));
}

function serve(port: MessagePort): void {
  const client: Client = { disks: new Map(), next: 1 };
  clients.add(client);
  const disk = (id: string): DiskServer => {
    const d = client.disks.get(id);
    if (!d) throw new Error(`no disk ${id} on this client: it was stopped (start a new one)`);
    return d;
  };
  port.on('message', (msg: DiskRequestMessage) => {
    void (async (): Promise<unknown> => {
      switch (msg.op) {
        case 'start': {
          const d = await DiskServer.start({ image: msg.image, socketPath: msg.socketPath, name: msg.name });
          const id = `d${client.next++}`;
          client.disks.set(id, d);
          return { id, name: d.name, socketPath: d.socketPath, size: d.size } satisfies StartedDisk;
        }
        case 'setPolicy':
          return disk(msg.disk).setPolicy(msg.change);
        case 'policy':
          return disk(msg.disk).getPolicy();
        case 'powerCut':
          return disk(msg.disk).powerCut();
        case 'stats':
          return disk(msg.disk).stats();
        case 'stop': {
          const d = disk(msg.disk);
          client.disks.delete(msg.disk);
          return d.stop(msg.unflushed);
        }
        case 'closeAll':
          await closeClient(client, 'commit'); // the client closes the port once it has the answer
          return undefined;
      }
    })().then(
      (value) => port.postMessage({ id: msg.id, ok: true, value: value ?? null } satisfies DiskReply),
      (err: Error) => port.postMessage({ id: msg.id, ok: false, error: err.message } satisfies DiskReply),
    );
  });
  port.on('close', () => {
    if (clients.has(client)) void closeClient(client, 'drop').catch(() => {}); // nobody is left to tell
  });
}

function stats(): DiskServiceStats {
  let disks = 0;
  for (const c of clients) disks += c.disks.size;
  return { clients: clients.size, disks };
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
      // Every disk is stopped, whatever becomes of the others; the answer lists the failures.
      void Promise.allSettled([...clients].map((c) => closeClient(c, 'commit'))).then((results) => {
        const errors = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
        control.postMessage({ kind: 'reply', id: msg.id, value: errors } satisfies ControlReply);
      });
      return;
  }
});
control.postMessage({ kind: 'ready' } satisfies ControlReply);
