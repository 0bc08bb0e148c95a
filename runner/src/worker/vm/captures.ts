/**
 * The open packet captures of each test file: a failing test keeps the pcap
 * of every one still open among its artifacts (`<artifacts>/capture-<what>.pcap`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileServices } from '../binding/registry.js';
import { artifactDir, slug } from './artifacts.js';
import type { PacketCapture } from './capture.js';

const openByFile = new WeakMap<FileServices, Set<PacketCapture>>();

/** Tracks `c` until it is closed. */
export function trackCapture(c: PacketCapture, services: FileServices): void {
  let open = openByFile.get(services);
  if (!open) {
    const set = new Set<PacketCapture>();
    open = set;
    openByFile.set(services, set);
    services.onTestFailure((test) => keepPcaps(services, set, test));
  }
  open.add(c);
  const before = c.onClose;
  c.onClose = () => {
    open.delete(c);
    before?.();
  };
}

async function keepPcaps(services: FileServices, open: Set<PacketCapture>, test: string): Promise<Record<string, string>> {
  if (open.size === 0) return {};
  const dir = artifactDir(services, test);
  await mkdir(dir, { recursive: true });
  const kept: Record<string, string> = {};
  const used = new Set<string>();
  for (const c of open) {
    let name = `capture-${slug(c.fileName)}`;
    for (let i = 2; used.has(name); i++) name = `capture-${slug(c.fileName)}-${i}`;
    used.add(name);
    const file = path.join(dir, `${name}.pcap`);
    await writeFile(file, c.pcap());
    kept[`capture of ${c.label}`] = file;
    if (c.keptTrimmed) services.log(`${file}: the capture of ${c.label} holds only its latest 16 MiB of frames`);
  }
  return kept;
}
