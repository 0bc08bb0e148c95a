import { EventEmitter } from 'node:events';
import { closeSync, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';

/**
 * The guest's serial console (ttyS0). QEMU connects its serial chardev to a
 * socket the driver listens on, before the guest runs; every byte is appended
 * to `logPath` before it is emitted as `data`, so the log always holds at
 * least what listeners have seen. `write` types into the guest.
 */
export class QemuConsole extends EventEmitter<{ data: [Buffer]; end: [] }> {
  /** Settles when QEMU closed the console (it exited): the log is complete. */
  readonly ended: Promise<void>;
  private readonly logFd: number;

  constructor(
    private readonly socket: Socket,
    readonly logPath: string,
  ) {
    super();
    this.logFd = openSync(logPath, 'a');
    socket.on('data', (chunk: Buffer) => {
      writeSync(this.logFd, chunk);
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

  /** Sends bytes to the guest's serial input; resolves once handed to the kernel. */
  write(data: string | Uint8Array): Promise<void> {
    if (this.socket.destroyed) return Promise.reject(new Error('console is closed: QEMU has exited'));
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Everything the guest printed so far. */
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
