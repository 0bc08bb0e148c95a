/**
 * Device state in and out of QEMU 7.2 through the migration stream. With the
 * guest RAM in a shared memory-backend-file and `x-ignore-shared`, the stream
 * carries only device state; RAM mapped private goes through the stream.
 * QEMU 7.2 has no `file:` URI: a save streams into a unix socket the driver
 * writes to the file (done once the file has every byte: QEMU reports
 * `completed` before it closes its end); a load reads a file QEMU was given as
 * an open fd at launch (`fd:N`). Neither runs a helper process.
 */
import { createWriteStream, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { settleWithin } from './process.js';
import type { QmpClient, QmpEvent } from './qmp.js';

/** Large enough that the default 128 MiB/s cap never throttles a stream to a local file. */
const MAX_BANDWIDTH = 64 * 1024 * 1024 * 1024;

export interface MigrationStats {
  /** Guest RAM bytes that went through the stream (near 0 when the RAM file was skipped). */
  ramTransferred: number;
}

function setUp(qmp: QmpClient): Promise<unknown> {
  return qmp.execute('migrate-set-capabilities', {
    capabilities: [
      { capability: 'x-ignore-shared', state: true },
      { capability: 'events', state: true },
    ],
  });
}

/** Resolves at MIGRATION status `completed`; rejects with QEMU's error at `failed`/`cancelled`. */
function migrationEnd(qmp: QmpClient, timeoutMs: number, what: string): Promise<QmpEvent> {
  return qmp
    .waitForEvent('MIGRATION', (e) => ['completed', 'failed', 'cancelled'].includes(String(e.data.status)), timeoutMs)
    .then(async (e) => {
      if (e.data.status === 'completed') return e;
      const info = await qmp.execute<{ 'error-desc'?: string }>('query-migrate').catch(() => ({} as { 'error-desc'?: string }));
      throw new Error(`${what} ${String(e.data.status)}: ${info['error-desc'] ?? 'QEMU gave no reason (see its log)'}`);
    });
}

/**
 * Listens on `sock` for one connection and writes what it carries to `file`.
 * `listening` resolves once QEMU may connect; `written` once the connection
 * ended and the file holds all of it.
 */
function receiveInto(sock: string, file: string): { listening: Promise<void>; written: Promise<void>; close(): void } {
  const server = createServer();
  const written = new Promise<void>((resolve, reject) => {
    server.once('connection', (conn: Socket) => {
      server.close();
      pipeline(conn, createWriteStream(file)).then(resolve, (e: Error) => reject(new Error(`cannot write the VM state to ${file}: ${e.message}`)));
    });
  });
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot listen on ${sock} for the VM state: ${e.message}`)));
    server.listen(sock, resolve);
  });
  return { listening, written, close: () => server.close() };
}

/** Writes the migration stream of a stopped VM to `file` (a unix socket beside it carries the stream). */
export async function saveState(qmp: QmpClient, file: string, timeoutMs: number): Promise<MigrationStats> {
  await setUp(qmp);
  await qmp.execute('migrate-set-parameters', { 'max-bandwidth': MAX_BANDWIDTH });
  const sock = `${file}.sock`;
  const receiver = receiveInto(sock, file);
  receiver.written.catch(() => {});
  try {
    await receiver.listening;
    const end = migrationEnd(qmp, timeoutMs, `saving the VM state to ${file}:`);
    end.catch(() => {});
    await qmp.execute('migrate', { uri: `unix:${sock}` });
    await end;
    // QEMU reports `completed` before it closes the stream: the file is whole once the stream ended.
    if ((await settleWithin(receiver.written.then(() => true), timeoutMs)) !== true) {
      throw new Error(`saving the VM state to ${file}: QEMU did not close the stream within ${timeoutMs} ms after completing`);
    }
  } finally {
    receiver.close();
    rmSync(sock, { force: true });
  }
  const info = await qmp.execute<{ ram?: { transferred: number } }>('query-migrate');
  return { ramTransferred: info.ram?.transferred ?? 0 };
}

/**
 * Loads a stream written by saveState from `fd` of a QEMU started with
 * `-incoming defer`; the VM stays stopped. `file` names the stream in errors.
 */
export async function loadState(qmp: QmpClient, fd: number, file: string, timeoutMs: number): Promise<void> {
  const end = migrationEnd(qmp, timeoutMs, `loading the VM state from ${file}:`);
  end.catch(() => {});
  // Sent back to back (QEMU runs them in order); if setUp fails, so does the load, and the caller kills QEMU.
  await Promise.all([setUp(qmp), qmp.execute('migrate-incoming', { uri: `fd:${fd}` })]);
  await end;
}
