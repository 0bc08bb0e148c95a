/**
 * The objects behind Lua file handles: files on disk (synchronous fs: local
 * and fast), pipes to a child process (io.popen: asynchronous), and the
 * standard handles (stdout/stderr write to the log; stdin is empty).
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { Scope } from '../runtime/runtime.js';
import { ReadBuffer } from './read-buffer.js';
import { startShell, type ExitStatus } from './processes.js';

const CHUNK = 64 * 1024;
const FLAGS: Record<string, string> = { r: 'r', w: 'w', a: 'a', 'r+': 'r+', 'w+': 'w+', 'a+': 'a+' };

/** An I/O failure reported Lua-style: (nil, message, errno). */
export class IoError extends Error {
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

let nextId = 1;

abstract class BaseFile {
  closed = false;
  readonly id = nextId++;
  /** Read-ahead; undefined when the handle cannot be read. */
  abstract readonly buffer: ReadBuffer | undefined;
}

export class DiskFile extends BaseFile {
  readonly buffer: ReadBuffer | undefined;
  private readonly fd: number;
  /** File offset just past the buffered data. */
  private filePos = 0;
  private readonly append: boolean;
  private readonly writable: boolean;

  /** Opens `path` with a C fopen mode ("r", "w+", "ab", ...); throws a Node error. */
  constructor(
    readonly path: string,
    mode: string,
  ) {
    super();
    const base = mode.replace('b', '');
    this.fd = openSync(path, FLAGS[base]);
    this.append = base.startsWith('a');
    this.writable = base !== 'r';
    this.buffer = base === 'w' || base === 'a' ? undefined : new ReadBuffer();
  }

  static isValidMode(mode: string): boolean {
    return /^[rwa]\+?b?$/.test(mode);
  }

  /** Reads the next chunk into the buffer; sets EOF when there is none. */
  fill(): void {
    const chunk = Buffer.allocUnsafe(CHUNK);
    const n = readSync(this.fd, chunk, 0, CHUNK, this.filePos);
    if (n === 0) this.buffer!.eof = true;
    else {
      this.filePos += n;
      this.buffer!.push(chunk.subarray(0, n));
    }
  }

  /** Where the next read or write happens. */
  get position(): number {
    return this.filePos - (this.buffer?.available ?? 0);
  }

  write(data: Uint8Array): void {
    if (!this.writable) throw new IoError('Bad file descriptor', 9);
    const pos = this.position;
    this.buffer?.clear();
    if (this.append) {
      writeSync(this.fd, data);
      this.filePos = fstatSync(this.fd).size;
    } else {
      writeSync(this.fd, data, 0, data.length, pos);
      this.filePos = pos + data.length;
    }
  }

  seek(whence: 'set' | 'cur' | 'end', offset: number): number {
    const base = whence === 'set' ? 0 : whence === 'cur' ? this.position : fstatSync(this.fd).size;
    const target = base + offset;
    if (target < 0) throw new IoError('Invalid argument', 22);
    this.buffer?.clear();
    this.filePos = target;
    return target;
  }

  /** Before a new read call: data appended since the last EOF becomes visible. */
  resetEof(): void {
    if (this.buffer) this.buffer.eof = false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** One end of `sh -c prog`: mode "r" reads its stdout, mode "w" writes its stdin. */
export class PipeFile extends BaseFile {
  readonly buffer: ReadBuffer | undefined;
  private readonly child: ChildProcess;
  private readonly exited: Promise<ExitStatus>;
  private wake: (() => void) | undefined;
  private broken = false;

  constructor(scope: Scope, prog: string, mode: 'r' | 'w') {
    super();
    const { child, exited } = startShell(scope, prog, { readStdout: mode === 'r', writeStdin: mode === 'w' });
    this.child = child;
    this.exited = exited;
    if (mode === 'r') {
      const buffer = new ReadBuffer();
      this.buffer = buffer;
      const stdout = child.stdout!;
      stdout.on('data', (chunk: Buffer) => {
        buffer.push(chunk);
        this.notify();
      });
      stdout.on('end', () => {
        buffer.eof = true;
        this.notify();
      });
      stdout.on('error', () => {
        buffer.eof = true;
        this.notify();
      });
      void exited.then(() => {
        buffer.eof = true;
        this.notify();
      });
    } else {
      this.buffer = undefined;
      child.stdin!.on('error', () => (this.broken = true));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves when more output (or its end) has arrived. */
  more(): Promise<void> {
    if (this.buffer!.eof) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** Writes to the child's stdin; resolves once it can take more. */
  write(data: Uint8Array): Promise<void> | void {
    const stdin = this.child.stdin;
    if (!stdin) throw new IoError('Bad file descriptor', 9);
    if (this.broken || stdin.destroyed) throw new IoError('Broken pipe', 32);
    if (stdin.write(data)) return;
    return new Promise((resolve) => {
      const done = () => {
        stdin.off('drain', done);
        stdin.off('close', done);
        resolve();
      };
      stdin.on('drain', done);
      stdin.on('close', done);
    });
  }

  /** Closes our end and waits for the process: its exit status. */
  close(): Promise<ExitStatus> {
    this.closed = true;
    if (this.child.stdin) this.child.stdin.end();
    if (this.child.stdout && this.buffer) this.child.stdout.destroy();
    return this.exited;
  }
}

/** io.stdin / io.stdout / io.stderr: the outputs write to the current log. */
export class StdFile extends BaseFile {
  readonly buffer: ReadBuffer | undefined;

  constructor(
    readonly name: 'stdin' | 'stdout' | 'stderr',
    private readonly log: (text: Uint8Array) => void,
  ) {
    super();
    if (name === 'stdin') {
      this.buffer = new ReadBuffer();
      this.buffer.eof = true;
    } else this.buffer = undefined;
  }

  write(data: Uint8Array): void {
    if (this.name === 'stdin') throw new IoError('Bad file descriptor', 9);
    this.log(data);
  }
}

export type LuaFile = DiskFile | PipeFile | StdFile;
