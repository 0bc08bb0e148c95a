/**
 * The disks of a snapshot. Each disk of the stopped VM (QEMU drains and
 * flushes its block devices when it stops) becomes one section of the
 * container:
 *
 *   raw         the disk's whole content, as a sparse raw image (scratch,
 *               template and path disks, whatever their format);
 *   root-delta  what a VM wrote over its profile's root image: a qcow2 layer
 *               whose backing is that image (the image itself is not stored;
 *               the profile's identity in the snapshot pins its content).
 *
 * A restore unpacks each section once per run (unpackTemplate) and gives
 * every restored VM images of its own on top (the runner's disk set): the
 * container and its unpacked layers are never written.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { convertToRaw, imageInfo, rebaseOnto, rebaseUnsafe, type DiskAttachment, type DiskFormat } from './disks.js';
import { findExecutable } from './host.js';

export interface DiskSection {
  id: string;
  serial?: string;
  slot: number;
  readOnly?: boolean;
  kind: 'raw' | 'root-delta';
  /** It was a mediated disk: its restore is mediated too. */
  mediated?: boolean;
  offset: number;
  length: number;
  encoding: 'raw' | 'zstd';
  /** Bytes of the unpacked layer file. */
  size: number;
}

/** A disk layer ready to go into a container: `file` is removed afterwards when `owned`. */
export interface DiskLayer {
  section: Omit<DiskSection, 'offset' | 'length' | 'encoding' | 'size'>;
  file: string;
  owned: boolean;
  size: number;
}

/** Copies a file keeping its holes (and sharing its blocks where the filesystem can). */
export async function copySparse(src: string, dst: string): Promise<void> {
  try {
    await promisify(execFile)(findExecutable('cp'), ['--sparse=always', '--reflink=auto', src, dst]);
  } catch (e) {
    throw new Error(`cannot copy disk image ${src} to ${dst}: ${((e as { stderr?: string }).stderr || (e as Error).message).trim()}`);
  }
}

/** The layer of each disk of a stopped VM, in `tmpDir`. On failure nothing it made is left. */
export async function diskLayers(disks: readonly DiskAttachment[], tmpDir: string): Promise<DiskLayer[]> {
  const layers: DiskLayer[] = [];
  try {
    for (const d of disks) {
      const section = { id: d.id, slot: d.slot, ...(d.serial ? { serial: d.serial } : {}), ...(d.readOnly ? { readOnly: true } : {}), ...(d.nbd ? { mediated: true } : {}) };
      const what = `snapshot of disk "${d.id}"`;
      if (d.base) {
        const file = join(tmpDir, `layer-${randomUUID().slice(0, 8)}.qcow2`);
        layers.push({ section: { ...section, kind: 'root-delta' }, file, owned: true, size: 0 });
        await copySparse(d.file, file);
        // A restored VM's layer stands on its snapshot's layer: fold that in, so the section needs the root image only.
        if ((await imageInfo(file, what)).backing !== d.base.path) await rebaseOnto(file, d.base.path, d.base.format, what);
      } else if (d.format === 'raw') {
        layers.push({ section: { ...section, kind: 'raw' }, file: d.file, owned: false, size: 0 });
      } else {
        const file = join(tmpDir, `layer-${randomUUID().slice(0, 8)}.raw`);
        layers.push({ section: { ...section, kind: 'raw' }, file, owned: true, size: 0 });
        await convertToRaw(d.file, file, what);
      }
      layers[layers.length - 1].size = statSync(layers[layers.length - 1].file).size;
    }
    return layers;
  } catch (e) {
    removeLayers(layers);
    throw e;
  }
}

export function removeLayers(layers: readonly DiskLayer[]): void {
  for (const l of layers) if (l.owned) rmSync(l.file, { force: true });
}

/** The unpacked layer of a root-delta section points at this host's copy of the root image. */
export async function pointAtRoot(layer: string, root: { path: string; format: DiskFormat }, what: string): Promise<void> {
  await rebaseUnsafe(layer, root.path, root.format, what);
}
