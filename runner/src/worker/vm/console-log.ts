/**
 * A VM's serial console output as tests read it: from the log file the
 * driver writes while QEMU runs, and a copy taken when QEMU closes the
 * console (the driver removes the run dir that held the file). The file
 * keeps the latest 8 MiB (CONSOLE_LOG_MAX_BYTES): offsets count every byte
 * of output, those it dropped included.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { QemuProcess } from '@provium/qemu';

export class ConsoleLog {
  private qemu: QemuProcess | undefined;
  /** The log as it was when QEMU closed the console, and the bytes of output before it that it no longer held. */
  private final: { log: Buffer; dropped: number } | undefined;
  /** Bytes of console output that console expect() has consumed. */
  cursor = 0;

  /** Follows a (new) QEMU's console from now on. */
  follow(qemu: QemuProcess): void {
    this.qemu = qemu;
    this.final = undefined;
    // 'end' comes while the log file still exists: QEMU closed the console, the driver has not cleaned up yet.
    qemu.console.once('end', () => {
      if (this.qemu === qemu) this.final = { log: this.read(), dropped: qemu.console.dropped };
    });
  }

  /** The output from byte `from` on, as far as the log still holds it; empty before boot. */
  read(from = 0): Buffer {
    const start = Math.max(0, from - this.dropped());
    if (this.final) return this.final.log.subarray(start);
    if (!this.qemu) return Buffer.alloc(0);
    let fd: number;
    try {
      fd = openSync(this.qemu.consoleLogPath, 'r');
    } catch {
      return Buffer.alloc(0); // QEMU exited before the log could be kept
    }
    try {
      const buf = Buffer.alloc(Math.max(0, fstatSync(fd).size - start));
      const n = readSync(fd, buf, 0, buf.length, start);
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  }

  /** The output after the cursor; a cursor on output the log dropped moves to the oldest it holds. */
  unread(): Buffer {
    this.cursor = Math.max(this.cursor, this.dropped());
    return this.read(this.cursor);
  }

  /** Bytes of output so far (those the log dropped included): where the output goes on. */
  size(): number {
    if (this.final) return this.final.dropped + this.final.log.length;
    try {
      return this.qemu ? this.dropped() + statSync(this.qemu.consoleLogPath).size : 0;
    } catch {
      return 0;
    }
  }

  /** True once QEMU has closed the console (it is exiting or has exited). */
  get ended(): boolean {
    return this.final !== undefined;
  }

  private dropped(): number {
    return this.final?.dropped ?? this.qemu?.console.dropped ?? 0;
  }
}
