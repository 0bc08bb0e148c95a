/**
 * The image file behind a write-back cache, as a disk with a volatile write
 * cache behaves: writes are held in memory until a flush (or a FUA write,
 * for its own range) commits them to the file; reads see held writes; a
 * power cut loses what was held. Above WRITE_BACK_LIMIT held bytes the store
 * commits on its own, as a real cache writes back when it fills.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ExtentMap } from './extents.js';

export const WRITE_BACK_LIMIT = 64 * 1024 * 1024;
const ZEROES = Buffer.alloc(1024 * 1024);

export class WriteBackStore {
  private readonly held = new ExtentMap();
  /** Operations run one at a time: a read must not see the file before a commit and the map after it. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly file: FileHandle,
    /** Image path, for errors. */
    readonly path: string,
    /** Bytes; fixed when opened. */
    readonly size: number,
  ) {}

  static async open(path: string): Promise<WriteBackStore> {
    let file: FileHandle;
    try {
      file = await open(path, 'r+');
    } catch (err) {
      throw new Error(`disk image ${path} cannot be opened for reading and writing (${(err as Error).message}): create it first (e.g. qemu-img create -f raw ${path} 64M) or fix its permissions`);
    }
    const st = await file.stat();
    if (!st.isFile() || st.size === 0) {
      await file.close();
      throw new Error(`disk image ${path} is ${st.isFile() ? 'empty' : 'not a regular file'}: give a raw image file of the disk's size`);
    }
    return new WriteBackStore(file, path, st.size);
  }

  /** Bytes written by the guest and not yet in the file. */
  get unflushed(): number {
    return this.held.bytes;
  }

  read(offset: number, length: number): Promise<Buffer> {
    return this.serial(async () => {
      const buf = Buffer.alloc(length);
      await this.file.read(buf, 0, length, offset); // past the end of a shrunk file reads as zeroes
      this.held.overlay(offset, buf);
      return buf;
    });
  }

  /** Writes `data`, or `length` zeroes when `data` is absent. With `fua` the range goes to the file before this resolves. */
  write(offset: number, length: number, data: Buffer | undefined, fua: boolean): Promise<void> {
    return this.serial(async () => {
      if (fua) {
        this.held.remove(offset, length);
        await this.writeRange(offset, length, data);
        await this.file.datasync();
        return;
      }
      // A payload may be a view of a socket chunk holding other requests too: a held
      // small write gets its own copy rather than keeping the whole chunk alive.
      const own = data && data.length < data.buffer.byteLength / 2 ? Buffer.from(data) : data;
      this.held.put(offset, length, own);
      if (this.held.bytes > WRITE_BACK_LIMIT) await this.commit();
    });
  }

  /** Commits every held write to the file and syncs it. */
  flush(): Promise<void> {
    return this.serial(() => this.commit());
  }

  /** Drops every held write; returns the bytes lost. */
  powerCut(): Promise<number> {
    return this.serial(async () => {
      const lost = this.held.bytes;
      this.held.clear();
      return lost;
    });
  }

  /** Commits (or drops) what is held and closes the file; later operations fail. */
  close(unflushed: 'commit' | 'drop'): Promise<void> {
    return this.serial(async () => {
      try {
        if (unflushed === 'commit') await this.commit();
        else this.held.clear();
      } finally {
        this.closed = true;
        await this.file.close();
      }
    });
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new Error(`disk image ${this.path} is closed (its disk was stopped)`);
      return op();
    });
    this.queue = run.catch(() => {});
    return run;
  }

  private async commit(): Promise<void> {
    if (this.held.bytes === 0) return;
    for (const e of this.held.entries()) await this.writeRange(e.offset, e.length, e.data);
    await this.file.datasync();
    this.held.clear(); // only once all of it is in the file: a failed commit keeps it held
  }

  private async writeRange(offset: number, length: number, data: Buffer | undefined): Promise<void> {
    for (let done = 0; done < length;) {
      const n = Math.min(length - done, data ? length - done : ZEROES.length);
      const { bytesWritten } = await this.file.write(data ?? ZEROES, data ? done : 0, n, offset + done);
      done += bytesWritten;
    }
  }
}
