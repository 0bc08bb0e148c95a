/**
 * Content-addressed cache entries installed atomically: an entry is built in a
 * private temp directory beside its final place and renamed into place once
 * complete. A crash leaves only a temp directory (swept later), never a half
 * entry; two processes building the same entry both finish, the first rename
 * wins and the other discards its copy (same key, same content).
 */
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const TEMP_PREFIX = '.tmp-';

export interface InstallResult {
  dir: string;
  /** True when this call built the entry, false when it was already there. */
  built: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp directories left in `parent` by processes that no longer run. */
export async function sweepStaleTemps(parent: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !pidAlive(pid)) await rm(join(parent, name), { recursive: true, force: true });
  }
}

/** A fresh private temp directory in `parent` (same filesystem, so rename works). */
export async function makeTempDir(parent: string): Promise<string> {
  await mkdir(parent, { recursive: true });
  return mkdtemp(join(parent, `${TEMP_PREFIX}${process.pid}-`));
}

export interface InstallOptions {
  /**
   * Build even when the entry exists, and swap the new one in: the old entry
   * moves into a temp directory first (removed afterwards), so readers see
   * the old or the new entry, or briefly none.
   */
  replace?: boolean;
}

/**
 * Returns `parent/name`, first running `build(tempDir)` and renaming the temp
 * directory into place when the entry does not exist yet (or `replace`).
 */
export async function installDirOnce(parent: string, name: string, build: (tempDir: string) => Promise<void>, options: InstallOptions = {}): Promise<InstallResult> {
  const dir = join(parent, name);
  if (!options.replace && (await exists(dir))) return { dir, built: false };
  await sweepStaleTemps(parent);
  const temp = await makeTempDir(parent);
  let previous: string | undefined;
  try {
    await build(temp);
    if (options.replace) previous = await moveAside(parent, dir);
    try {
      await rename(temp, dir);
      return { dir, built: true };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another process installed the same entry first.
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && (await exists(dir))) return { dir, built: false };
      throw error;
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
    if (previous) await rm(previous, { recursive: true, force: true });
  }
}

/** Moves `dir` (if there) into a new temp directory of `parent` and returns that directory. */
export async function moveAside(parent: string, dir: string): Promise<string> {
  const holder = await makeTempDir(parent);
  try {
    await rename(dir, join(holder, 'previous'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      await rm(holder, { recursive: true, force: true });
      throw error;
    }
  }
  return holder;
}
