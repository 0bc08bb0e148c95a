import { EventEmitter } from 'node:events';
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';

/**
 * A console log keeps at most this many bytes, the latest: a guest that
 * prints without end must not fill the disk. Past it, the older half goes.
 */
export const CONSOLE_LOG_MAX_BYTES = 8 * 1024 * 1024;

/**
 * The guest's serial console (ttyS0). QEMU connects its serial chardev to a
 * socket the driver listens on, before the guest runs; every byte is appended
 * to `logPath` before it is emitted as `data`, so the log always holds the
 * latest of what listeners have seen (up to CONSOLE_LOG_MAX_BYTES). `write`
 * types into the guest.
 */
export class QemuConsole extends EventEmitter<{ data: [Buffer]; end: [] }> {
  /** Settles when QEMU closed the console (it exited): the log is complete. */
  readonly ended: Promise<void>;
  private readonly logFd: number;
  private logBytes: number;
  private droppedBytes = 0;

  constructor(
    private readonly socket: Socket,
    readonly logPath: string,
  ) {
    super();
    this.logFd = openSync(logPath, 'a+');
    this.logBytes = fstatSync(this.logFd).size;
    socket.on('data', (chunk: Buffer) => {
      this.append(chunk);
      this.emit('data', chunk);
    });
    socket.on('error', () => {}); // 'close' follows; QEMU's exit is reported by the process
    this.ended = new Promise((resolve) =>
      socket.once('close', () => {
        closeSync(this.logFd);
        this.emit('end');
        resolve();
      }),
    );
  }

  /** Bytes of output from the start that the log no longer holds: byte `n` of the output is at `n - dropped` in the file. */
  get dropped(): number {
    return this.droppedBytes;
  }

  private append(chunk: Buffer): void {
    writeSync(this.logFd, chunk);
    this.logBytes += chunk.length;
    if (this.logBytes <= CONSOLE_LOG_MAX_BYTES) return;
    const keep = Buffer.alloc(CONSOLE_LOG_MAX_BYTES / 2);
    readSync(this.logFd, keep, 0, keep.length, this.logBytes - keep.length);
    ftruncateSync(this.logFd, 0);
    writeSync(this.logFd, keep); // appends: at 0
    this.droppedBytes += this.logBytes - keep.length;
    this.logBytes = keep.length;
  }

  /** Sends bytes to the guest's serial input; resolves once handed to the kernel. */
  write(data: string | Uint8Array): Promise<void> {
    if (this.socket.destroyed) return Promise.reject(new Error('console is closed: QEMU has exited'));
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** What the guest printed so far (the latest CONSOLE_LOG_MAX_BYTES of it). */
  readLog(): string {
    return readFileSync(this.logPath, 'utf8');
  }

  /** Last `n` non-empty lines of the log. */
  tail(n: number): string[] {
    return tailLines(this.logPath, n);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Last `n` non-empty lines of a file, terminal escapes stripped (reads at most the last 64 KiB); [] when missing. */
export function tailLines(path: string, n: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf
      .toString('utf8')
      .split('\n')
      .map((l) => l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, ''))
      .filter((l) => l.trim() !== '')
      .slice(-n);
  } finally {
    closeSync(fd);
  }
}
