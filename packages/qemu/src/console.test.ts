// The console log on disk, fed through a real Unix socket as QEMU's serial chardev would: it keeps the latest output only.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CONSOLE_LOG_MAX_BYTES, QemuConsole } from './console.js';

const dir = mkdtempSync(path.join(tmpdir(), 'provium-console-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A console whose guest side is `guest`, as launchQemu connects one. */
async function connected(): Promise<{ console: QemuConsole; guest: Socket }> {
  const sock = path.join(dir, 'console.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const guest = createConnection(sock);
  const con = new QemuConsole(await accepted, path.join(dir, 'console.log'));
  server.close();
  return { console: con, guest };
}

it(`a guest that prints without end leaves a log of at most ${CONSOLE_LOG_MAX_BYTES / 1024 / 1024} MiB: the latest output, with what it dropped counted`, async () => {
  expect(CONSOLE_LOG_MAX_BYTES).toBe(8 * 1024 * 1024); // the bound docs/limits.md states
  const { console, guest } = await connected();
  // numbered lines: the kept tail must be exactly the end of what was printed
  const lines = Array.from({ length: 500_000 }, (_, i) => `line ${String(i).padStart(8, '0')} of a guest that does not stop\n`);
  const printed = Buffer.from(lines.join(''));
  expect(printed.length).toBeGreaterThan(2.5 * CONSOLE_LOG_MAX_BYTES);
  let seen = 0;
  console.on('data', (d) => (seen += d.length));
  guest.end(printed);
  await console.ended;
  expect(seen).toBe(printed.length); // listeners still see everything
  const log = readFileSync(console.logPath);
  expect(statSync(console.logPath).size).toBeLessThanOrEqual(CONSOLE_LOG_MAX_BYTES);
  expect(log.length).toBeGreaterThanOrEqual(CONSOLE_LOG_MAX_BYTES / 2);
  expect(console.dropped + log.length).toBe(printed.length);
  expect(log.equals(printed.subarray(console.dropped))).toBe(true);
  expect(console.tail(1)).toEqual([lines.at(-1)!.trimEnd()]);
});
