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
 * A snapshot taken with a base (a fixture built on another fixture: the VM
 * was restored from the parent's cache entry) stores its root layers `over`
 * the parent's: only the VM's own writes, the qcow2 backing being the
 * parent's unpacked layer. Its RAM likewise becomes a qcow2 layer over the
 * parent's RAM holding the pages that differ. Anything else is folded onto
 * the root image (layers) or kept whole (RAM), so the snapshot stands alone.
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
import { convertToRaw, createOverlay, imageInfo, rebaseOnto, rebaseUnsafe, type DiskAttachment, type DiskFormat } from './disks.js';
import { findExecutable } from './host.js';
import type { Over } from './snapshot-file.js';

/** The cached snapshot a VM was restored from, which its next snapshot may be stored over (fixture builds). */
export interface SnapshotBase extends Over {
  /** Its unpacked RAM, which the VM's RAM started as a copy of. */
  ram?: string;
  /** Its unpacked root layers by slot, which the VM's root overlays stand on. */
  layers: Record<number, string>;
}

export interface DiskSection {
  id: string;
  serial?: string;
  slot: number;
  readOnly?: boolean;
  kind: 'raw' | 'root-delta';
  /** It was a mediated disk: its restore is mediated too. */
  mediated?: boolean;
  /** A root-delta stored over the same slot's layer of another snapshot (see Over). */
  over?: Over;
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

/**
 * The RAM of a stopped VM as a qcow2 layer over `baseRam` holding only the
 * clusters that differ from it (a safe rebase compares the two), as `file`
 * (the caller removes it). On failure nothing is left.
 */
export async function ramLayer(ram: string, baseRam: string, file: string): Promise<number> {
  try {
    await createOverlay(file, ram, 'raw', 'snapshot of the RAM');
    await rebaseOnto(file, baseRam, 'raw', 'snapshot of the RAM');
    return statSync(file).size;
  } catch (e) {
    rmSync(file, { force: true });
    throw e;
  }
}

/** The layer of each disk of a stopped VM, in `tmpDir`. On failure nothing it made is left. */
export async function diskLayers(disks: readonly DiskAttachment[], tmpDir: string, base?: SnapshotBase): Promise<DiskLayer[]> {
  const layers: DiskLayer[] = [];
  try {
    for (const d of disks) {
      const section = { id: d.id, slot: d.slot, ...(d.serial ? { serial: d.serial } : {}), ...(d.readOnly ? { readOnly: true } : {}), ...(d.nbd ? { mediated: true } : {}) };
      const what = `snapshot of disk "${d.id}"`;
      if (d.base) {
        const file = join(tmpDir, `layer-${randomUUID().slice(0, 8)}.qcow2`);
        const layer: DiskLayer = { section: { ...section, kind: 'root-delta' }, file, owned: true, size: 0 };
        layers.push(layer);
        await copySparse(d.file, file);
        const backing = (await imageInfo(file, what)).backing;
        if (base && backing !== undefined && backing === base.layers[d.slot]) layer.section.over = { ref: base.ref, id: base.id };
        // A restored VM's layer stands on its snapshot's layer: fold that in, so the section needs the root image only.
        else if (backing !== d.base.path) await rebaseOnto(file, d.base.path, d.base.format, what);
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

/** An unpacked layer points at what it stands on here: this host's root image, or its parent's unpacked layer. */
export async function pointAt(layer: string, backing: { path: string; format: DiskFormat }, what: string): Promise<void> {
  if ((await imageInfo(layer, what)).backing !== backing.path) await rebaseUnsafe(layer, backing.path, backing.format, what);
}
