/**
 * Helpers of the snapshot container's writers and readers: temp files beside
 * their target, children fed from a file section (zstd), and a full file
 * system told apart from other failures.
 */
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { closeSync, createReadStream, fsyncSync, openSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function tempBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.partial-${process.pid}-${randomUUID().slice(0, 8)}`);
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A child that ran and exited non-zero, with what it printed. */
export class ChildFailed extends Error {
  constructor(message: string, readonly stderr: string) {
    super(message);
  }
}

/** Errno codes of a full file system, by zstd's wording (strerror). */
const DISK_FULL: readonly [RegExp, string][] = [[/No space left on device/, 'ENOSPC'], [/Disk quota exceeded/, 'EDQUOT']];

/**
 * `e` restated when it means the file system of `file` is full (code ENOSPC
 * or EDQUOT kept): a write of ours, or zstd's; any other error as it is.
 */
export function diskFullError(file: string, e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? (e instanceof ChildFailed ? DISK_FULL.find(([re]) => re.test(e.stderr))?.[1] : undefined);
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return e;
  return Object.assign(new Error(`cannot write ${file}: its file system is full (${code}): free space there and try again`), { code });
}

/**
 * Runs `cmd` with `stdin` piped into it; rejects with ChildFailed when it
 * fails. A child may exit before reading all its input (a corrupt frame, a
 * full disk): the write to its closed stdin fails with EPIPE, which must be
 * handled here or it crashes the process. The exit code tells what happened.
 */
export function run(cmd: string, args: string[], stdin: Readable, stdoutFd: number | 'ignore'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', stdoutFd, 'pipe'] });
    let err = '';
    let inputError: Error | undefined;
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    // EPIPE on stdin: the child stopped reading. Its exit code says why, for any error of its pipes.
    for (const s of [child.stdin!, child.stderr!]) s.on('error', () => {});
    stdin.on('error', (e) => {
      inputError = e;
      child.kill();
    });
    child.once('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message} (install zstd: scripts/setup.sh)`)));
    child.once('close', (code) => {
      stdin.destroy(); // unread input keeps its file open otherwise
      if (inputError) reject(inputError);
      else if (code === 0) resolve();
      else reject(new ChildFailed(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`, err.trim()));
    });
    stdin.pipe(child.stdin!);
  });
}

/** A section of a container (the RAM, a disk), as a stream. */
export function section(container: string, s: { offset: number; length: number }): Readable {
  return createReadStream(container, { start: s.offset, end: s.offset + s.length - 1 });
}

