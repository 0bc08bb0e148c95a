/**
 * Device state in and out of QEMU 7.2 through the migration stream. With the
 * guest RAM in a shared memory-backend-file and `x-ignore-shared`, the stream
 * carries only device state; RAM mapped private goes through the stream.
 * QEMU 7.2 has no `file:` URI, so the stream goes through `exec:` (run by /bin/sh).
 */
import type { QmpClient, QmpEvent } from './qmp.js';

/** Large enough that the default 128 MiB/s cap never throttles a stream to a local file. */
const MAX_BANDWIDTH = 64 * 1024 * 1024 * 1024;

export interface MigrationStats {
  /** Guest RAM bytes that went through the stream (near 0 when the RAM file was skipped). */
  ramTransferred: number;
}

/** A path quoted for /bin/sh. */
export function shellQuote(path: string): string {
  return `'${path.replaceAll("'", `'\\''`)}'`;
}

async function setUp(qmp: QmpClient): Promise<void> {
  await qmp.execute('migrate-set-capabilities', {
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

/** Writes the migration stream of a stopped VM to `file`. */
export async function saveState(qmp: QmpClient, file: string, timeoutMs: number): Promise<MigrationStats> {
  await setUp(qmp);
  await qmp.execute('migrate-set-parameters', { 'max-bandwidth': MAX_BANDWIDTH });
  const end = migrationEnd(qmp, timeoutMs, `saving the VM state to ${file}:`);
  end.catch(() => {});
  await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(file)}` });
  await end;
  const info = await qmp.execute<{ ram?: { transferred: number } }>('query-migrate');
  return { ramTransferred: info.ram?.transferred ?? 0 };
}

/** Loads a stream written by saveState into a QEMU started with `-incoming defer`; the VM stays stopped. */
export async function loadState(qmp: QmpClient, file: string, timeoutMs: number): Promise<void> {
  await setUp(qmp);
  const end = migrationEnd(qmp, timeoutMs, `loading the VM state from ${file}:`);
  end.catch(() => {});
  await qmp.execute('migrate-incoming', { uri: `exec:cat ${shellQuote(file)}` });
  await end;
}
