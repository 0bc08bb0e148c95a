/**
 * Snapshots of a running QEMU as one file, and restores from it.
 *
 * Fast path: the guest RAM lives in a memory-backend-file mapped shared, so
 * the migration stream (`x-ignore-shared`) holds device state only and the
 * RAM file is copied sparse into the container while the VM is stopped.
 * A restore maps an unpacked RAM template privately: QEMU loads only the
 * device state, every VM restored from one template shares its page cache,
 * and the template never changes. Such a VM's RAM is private, so its own
 * next snapshot streams the whole RAM (engine `stream`); a restore that is
 * expected to be snapshotted again (fixture builds, reset_between_tests)
 * maps its own sparse copy of the template shared instead (`copy` mode).
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, ftruncateSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LAUNCH_TEMPLATE_VERSION, MACHINE_TYPE } from './cmdline.js';
import { launchQemu } from './launch.js';
import { loadState, saveState } from './migrate.js';
import { MiB, type LaunchOptions } from './options.js';
import type { QemuProcess } from './process.js';
import { diskLayers, ramLayer, removeLayers, type DiskLayer, type SnapshotBase } from './snapshot-disks.js';
import { alignUp, FORMAT_VERSION, HEADER_SPACE, readHeader, sectionsEnd, writeHeader, type SnapshotHeader } from './snapshot-file.js';
import { diskFullError, fsyncDir, run, section, tempBeside } from './snapshot-io.js';
import type { SnapshotTemplate } from './snapshot-unpack.js';
import { sparseCopy } from './sparse.js';

export interface TakenSnapshot {
  header: SnapshotHeader;
  /** Guest RAM bytes that went through the migration stream (near 0 on the fast path). */
  ramTransferred: number;
  /** Bytes the container occupies on disk (sparse). */
  diskBytes: number;
}

function qemuVersionOf(qemu: QemuProcess): string {
  const v = qemu.qmp.greeting.version.qemu;
  return `${v.major}.${v.minor}.${v.micro}`;
}

/** Disk bytes a (sparse) file occupies. */
export function allocatedBytes(path: string): number {
  return statSync(path).blocks * 512;
}

/**
 * Writes a snapshot of `qemu` to `out` (atomically: temp file, fsync, rename).
 * The VM is stopped while its state and RAM are copied and runs again after
 * if it was running. `vm` is the caller's description, kept in the header.
 * With `base` (the cached snapshot the VM was restored from), the RAM and
 * the root layers are stored as what changed over base's (snapshot-disks.ts).
 */
export async function takeSnapshot(qemu: QemuProcess, out: string, vm: Record<string, unknown>, base?: SnapshotBase): Promise<TakenSnapshot> {
  const wasRunning = (await qemu.status()).running;
  if (wasRunning) await qemu.pause();
  const tmp = tempBeside(out);
  const stateFile = join(qemu.runDir, `state-${randomUUID().slice(0, 8)}`);
  const ramFile = join(qemu.runDir, `ram-${randomUUID().slice(0, 8)}.qcow2`);
  let layers: DiskLayer[] = [];
  try {
    const { ramTransferred } = await saveState(qemu.qmp, stateFile, qemu.opTimeoutMs);
    const stateLength = statSync(stateFile).size;
    const shared = qemu.machine.ram.share;
    const header: SnapshotHeader = {
      format: FORMAT_VERSION,
      id: randomUUID(),
      engine: shared ? 'shared-ram' : 'stream',
      created: new Date().toISOString(),
      machine: {
        type: MACHINE_TYPE, memoryMiB: qemu.machine.memoryMiB, cpus: qemu.machine.cpus, accel: qemu.accel,
        launchTemplate: LAUNCH_TEMPLATE_VERSION, qemu: qemuVersionOf(qemu),
      },
      state: { offset: HEADER_SPACE, length: stateLength },
      vm,
    };
    const size = qemu.machine.memoryMiB * MiB;
    closeSync(openSync(tmp, 'w'));
    sparseCopy(stateFile, 0, stateLength, tmp, HEADER_SPACE);
    if (shared) {
      const offset = alignUp(HEADER_SPACE + stateLength);
      if (base?.ram) {
        const layer = await ramLayer(qemu.machine.ram.path, base.ram, ramFile);
        sparseCopy(ramFile, 0, layer, tmp, offset);
        header.ram = { offset, length: layer, encoding: 'raw', size: layer, over: { ref: base.ref, id: base.id } };
      } else {
        sparseCopy(qemu.machine.ram.path, 0, size, tmp, offset);
        header.ram = { offset, length: size, encoding: 'raw', size };
      }
    }
    layers = await diskLayers(qemu.machine.disks, qemu.runDir, base);
    if (layers.length > 0) header.disks = [];
    for (const layer of layers) {
      const offset = alignUp(sectionsEnd(header));
      sparseCopy(layer.file, 0, layer.size, tmp, offset);
      header.disks!.push({ ...layer.section, offset, length: layer.size, encoding: 'raw', size: layer.size });
    }
    const fd = openSync(tmp, 'r+');
    try {
      writeHeader(fd, header);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, out);
    fsyncDir(dirname(out));
    return { header, ramTransferred, diskBytes: allocatedBytes(out) };
  } catch (e) {
    rmSync(tmp, { force: true });
    throw diskFullError(out, e);
  } finally {
    rmSync(stateFile, { force: true });
    rmSync(ramFile, { force: true });
    removeLayers(layers);
    if (wasRunning && qemu.exit === undefined) await qemu.resume();
  }
}

/** Compresses a section of `src` onto the end of `dst`, which first grows to `at`; returns the bytes written. */
async function appendZstd(src: string, from: { offset: number; length: number }, dst: string, at: number, level: number): Promise<number> {
  const fd = openSync(dst, 'r+');
  ftruncateSync(fd, at);
  closeSync(fd);
  const appendFd = openSync(dst, 'a');
  try {
    await run('zstd', [`-${level}`, '-q', '-T0', '-c'], section(src, from), appendFd);
  } finally {
    closeSync(appendFd);
  }
  return statSync(dst).size - at;
}

/**
 * Writes a copy of snapshot `src` to `dst` with its RAM and disks compressed by zstd
 * (what the fixture cache keeps). Atomic like takeSnapshot.
 */
export async function compressSnapshot(src: string, dst: string, level = 3): Promise<SnapshotHeader> {
  const header = readHeader(src);
  const { fileSize: _size, ...h } = header;
  const tmp = tempBeside(dst);
  try {
    closeSync(openSync(tmp, 'w'));
    sparseCopy(src, h.state.offset, h.state.length, tmp, h.state.offset);
    if (h.ram) {
      if (h.ram.encoding !== 'raw') throw new Error(`snapshot ${src} is already compressed`);
      const offset = alignUp(h.state.offset + h.state.length);
      h.ram = { ...h.ram, offset, length: await appendZstd(src, h.ram, tmp, offset, level), encoding: 'zstd' };
    }
    for (const [i, d] of (h.disks ?? []).entries()) {
      if (d.encoding !== 'raw') throw new Error(`snapshot ${src} is already compressed`);
      const offset = alignUp(sectionsEnd({ ...h, disks: h.disks!.slice(0, i) }));
      h.disks![i] = { ...d, offset, length: await appendZstd(src, d, tmp, offset, level), encoding: 'zstd' };
    }
    const fd = openSync(tmp, 'r+');
    try {
      writeHeader(fd, h);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, dst);
    fsyncDir(dirname(dst));
    return h;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw diskFullError(dst, e);
  }
}

export type RestoreMode = 'private' | 'copy';

export type RestoreLaunchOptions = Omit<LaunchOptions, 'memoryMiB' | 'cpus' | 'ram' | 'incoming'>;

/**
 * Starts the QEMU of a restore: the snapshot's machine, waiting for its
 * device state (handed over as an open file). `opts` gives the same kernel,
 * initrd, append and extra devices the snapshot was taken with; memory and
 * CPUs come from the snapshot. `private` maps the template (fast, shared
 * page cache); `copy` maps a copy shared, so the VM's next snapshot is fast
 * again. finishRestore() loads the state and resumes the guest.
 */
export async function launchForRestore(template: SnapshotTemplate, opts: RestoreLaunchOptions, mode: RestoreMode): Promise<QemuProcess> {
  const m = template.header.machine;
  if (m.type !== MACHINE_TYPE || m.launchTemplate !== LAUNCH_TEMPLATE_VERSION) {
    throw new Error(`snapshot of VM "${opts.name}" was taken with machine ${m.type}, launch template ${m.launchTemplate}; this Provium launches ${MACHINE_TYPE}, template ${LAUNCH_TEMPLATE_VERSION}: take the snapshot again`);
  }
  // A stream carries the RAM itself: it loads into a fresh private mapping (QEMU 7.2 skips
  // loading into RAM mapped shared when x-ignore-shared is on, and the capability must match the source's).
  const ram = template.ram === undefined ? { share: false } : mode === 'private' ? { path: template.ram, share: false } : { initialFrom: template.ram };
  const qemu = await launchQemu({ ...opts, memoryMiB: m.memoryMiB, cpus: m.cpus, incoming: { state: template.state }, ram });
  const v = qemuVersionOf(qemu);
  if (v !== m.qemu) {
    await qemu.kill();
    throw new Error(`snapshot of VM "${opts.name}" was taken with QEMU ${m.qemu}; this host runs ${v}: take the snapshot again`);
  }
  return qemu;
}

/** Loads the device state into a QEMU from launchForRestore and resumes the guest; kills QEMU if that fails. */
export async function finishRestore(qemu: QemuProcess, template: SnapshotTemplate): Promise<void> {
  try {
    if (qemu.incomingFd === undefined) throw new Error(`QEMU of VM "${qemu.name}" was not started for a restore (launchForRestore)`);
    await loadState(qemu.qmp, qemu.incomingFd, template.state, qemu.opTimeoutMs);
    await qemu.resume();
  } catch (e) {
    await qemu.kill();
    throw e;
  }
}

/** launchForRestore, then finishRestore. */
export async function restoreSnapshot(template: SnapshotTemplate, opts: RestoreLaunchOptions, mode: RestoreMode): Promise<QemuProcess> {
  const qemu = await launchForRestore(template, opts, mode);
  await finishRestore(qemu, template);
  return qemu;
}

export { readHeader, SnapshotFormatError, type SnapshotHeader } from './snapshot-file.js';
export { unpackTemplate, type ParentTemplate, type SnapshotTemplate, type UnpackOptions } from './snapshot-unpack.js';
