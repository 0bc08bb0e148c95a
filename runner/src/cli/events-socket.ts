/**
 * `--events-socket PATH`: the run's events, as the lines `--json` prints, to
 * every client connected to a unix socket at PATH, as they happen. A client
 * gets the events from when it connects; the socket lives as long as the
 * command (every run of `--watch`) and is removed when it ends, also after
 * Ctrl-C.
 */
import { lstatSync, renameSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { RunEvent } from '@provium/types';
import { UsageError } from '../errors.js';
import type { Reporter } from '../reporters/reporter.js';

/** How long a client has to take its last events when provium ends. */
const CLIENT_DRAIN_MS = 2000;

/** sun_path holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;

/** Whether something accepts connections on the socket at `file`. */
function listening(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(file);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export class EventsSocket {
  private readonly clients = new Set<net.Socket>();
  private readonly removeOnExit = () => this.unlink();
  private unlinked = false;

  private readonly server = net.createServer((client) => {
    this.clients.add(client);
    client.resume(); // what a client sends is ignored
    const drop = () => this.clients.delete(client);
    client.on('error', drop);
    client.on('close', drop);
  });

  private constructor(private readonly file: string) {}

  static async open(given: string): Promise<EventsSocket> {
    const file = path.resolve(given);
    const flag = `--events-socket ${given}`;
    // Made under a temporary name and renamed: PATH appears only once it accepts connections.
    const tmp = path.join(path.dirname(file), `.provium-${process.pid}.sock`);
    if (Buffer.byteLength(file) > MAX_SOCKET_PATH || Buffer.byteLength(tmp) > MAX_SOCKET_PATH) throw new UsageError(`${flag}: the path ${file} is longer than the ${MAX_SOCKET_PATH} bytes a unix socket's path may have; give a shorter one`);
    // (listen says EACCES, not ENOENT, for a directory that does not exist)
    if (!statSync(path.dirname(file), { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${flag}: the directory ${path.dirname(file)} does not exist; create it or give another path`);
    let existing: import('node:fs').Stats | undefined;
    try {
      existing = lstatSync(file);
    } catch {
      // nothing there: the usual case
    }
    if (existing && !existing.isSocket()) throw new UsageError(`${flag}: ${file} exists and is not a socket; give a path where the socket can be made`);
    if (existing) {
      if (await listening(file)) throw new UsageError(`${flag}: another program listens on ${file}; give another path`);
      unlinkSync(file); // left by a provium that died
    }
    const socket = new EventsSocket(file);
    await new Promise<void>((resolve, reject) => {
      socket.server.once('error', (e) => reject(new UsageError(`${flag}: cannot listen on ${file}: ${e.message}`)));
      socket.server.listen(tmp, resolve);
    });
    process.on('exit', socket.removeOnExit);
    renameSync(tmp, file);
    return socket;
  }

  /** A reporter feeding the clients; it closes nothing (the socket outlives one run under --watch). */
  reporter(): Reporter {
    return {
      onEvent: (e: RunEvent) => {
        const line = JSON.stringify(e) + '\n';
        for (const c of this.clients) c.write(line);
      },
    };
  }

  /** Ends every client once its events are sent, stops listening and removes the socket. */
  async close(): Promise<void> {
    for (const c of this.clients) {
      c.end(() => c.destroy());
      setTimeout(() => c.destroy(), CLIENT_DRAIN_MS).unref(); // a client that reads nothing must not hold provium open
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.unlink();
    process.off('exit', this.removeOnExit);
  }

  private unlink(): void {
    if (this.unlinked) return;
    this.unlinked = true;
    try {
      unlinkSync(this.file);
    } catch {
      // already gone
    }
  }
}
