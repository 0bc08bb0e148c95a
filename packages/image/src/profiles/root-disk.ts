/**
 * A profile's root disk: its format, and the sha256 of its content, which the
 * profile's identity (and so every fixture key) covers. Hashing a 2 GB image
 * takes seconds, so the hash is remembered per file (path, size, mtime,
 * inode) in `<cache>/images/disk-hashes.json`.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageInfo } from '@provium/qemu';
import type { PreparedProfile } from '@provium/types';
import { imageCacheDir } from '../cache-dir.js';
import type { ImageOptions } from '../default-image.js';
import { sha256File } from '../hash.js';

type Memo = Record<string, { size: number; mtimeMs: number; ino: number; sha256: string }>;

export async function rootDisk(path: string, at: string, options: ImageOptions): Promise<NonNullable<PreparedProfile['disk']>> {
  const info = await imageInfo(path, `${at}: disk ${path}`);
  if (info.backing !== undefined) {
    throw new Error(`${at}: disk ${path} is a qcow2 image with a backing file (${info.backing}); give a self-contained image (qemu-img convert -O qcow2 ${path} root.qcow2)`);
  }
  return { path, format: info.format, sha256: await contentHash(path, options) };
}

async function contentHash(path: string, options: ImageOptions): Promise<string> {
  const dir = imageCacheDir(options.cacheDir);
  const memoFile = join(dir, 'disk-hashes.json');
  let memo: Memo = {};
  try {
    memo = JSON.parse(readFileSync(memoFile, 'utf8')) as Memo;
  } catch {
    // none yet, or unreadable: hash again
  }
  const st = statSync(path);
  const known = memo[path];
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ino === st.ino) return known.sha256;
  options.onProgress?.(`hashing disk image ${path} (${Math.round(st.size / 1024 / 1024)} MiB)`);
  const sha256 = await sha256File(path);
  memo[path] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256 };
  mkdirSync(dir, { recursive: true });
  const tmp = `${memoFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(memo, null, 2));
  renameSync(tmp, memoFile);
  return sha256;
}
