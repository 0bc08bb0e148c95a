import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { type QemuConsole, isProcessAlive } from '../../packages/qemu/src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const fixtures = join(here, 'fixtures');
/** Built driver, for child processes and worker threads (plain node cannot load the TS sources). */
export const driverDist = join(here, '../../packages/qemu/dist/index.js');

export function requireBuiltDriver(): void {
  if (!existsSync(driverDist)) throw new Error(`${driverDist} is missing: run \`npm run build\` first (npm test does)`);
}

/** A private runtime root per suite, so sweeps and kill-alls only see this suite's run dirs. */
export function tempRoot(): { root: string; dispose: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'pvq-'));
  return { root, dispose: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Assembles fixtures/serial-echo.S (GNU as/ld from binutils) into a 512-byte
 * boot disk: SeaBIOS boots it, it prints a banner on COM1 and echoes input
 * upper-cased. Returns the QEMU args that attach it.
 */
export function echoDiskArgs(dir: string): string[] {
  const obj = join(dir, 'echo.o');
  const img = join(dir, 'echo.img');
  execFileSync('as', ['--32', '-o', obj, join(fixtures, 'serial-echo.S')]);
  execFileSync('ld', ['-m', 'elf_i386', '-Ttext', '0x7c00', '--oformat', 'binary', '-o', img, obj]);
  return ['-drive', `file=${img},format=raw,if=ide`];
}

/**
 * Resolves with the console output once the part of it after `from` (a
 * length of an earlier readLog()) contains `text`.
 */
export function consoleOutput(console: QemuConsole, text: string, from = 0, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = console.readLog();
    const timer = setTimeout(() => {
      console.off('data', onData);
      reject(new Error(`console never showed ${JSON.stringify(text)}; got ${JSON.stringify(seen.slice(from))}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      check();
    };
    const check = () => {
      if (!seen.slice(from).includes(text)) return;
      clearTimeout(timer);
      console.off('data', onData);
      resolve(seen);
    };
    console.on('data', onData);
    check();
  });
}

/**
 * Connects to QEMU's agent socket (QEMU listens there); `closed` settles when
 * the connection has closed and process `pid` is gone (a zombie or reaped), or
 * 10 s after the close. Lets a test wait for the death of a QEMU that is not
 * its child: the socket closes while the process still exits (its files are
 * released before it becomes a zombie), so the close alone can come too early.
 */
export function watchQemuDeath(agentSocketPath: string, pid: number): Promise<{ closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = connect(agentSocketPath);
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      sock.on('error', () => {}); // ECONNRESET when QEMU dies; 'close' follows
      sock.resume();
      const closed = new Promise<void>((done) => sock.once('close', () => done())).then(async () => {
        for (const end = Date.now() + 10_000; isProcessAlive(pid) && Date.now() < end;) await sleep(10);
      });
      resolve({ closed });
    });
  });
}
