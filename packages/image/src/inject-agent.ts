/**
 * `inject_agent = true`: the profile's own initrd followed by one more cpio
 * segment (the kernel unpacks concatenated archives in order) that holds
 * busybox, the agent and a small wrapper under /provium. The kernel starts the
 * wrapper (`rdinit=/provium/init`), which starts the agent supervisor in the
 * background and then execs the profile's own init.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { installDirOnce } from './atomic-install.js';
import { settleImageEntry } from './prune-images.js';
import { builderFingerprint } from './builder-fingerprint.js';
import { imageCacheDir } from './cache-dir.js';
import { type CpioEntry, cpioNewc } from './cpio.js';
import type { ImageOptions } from './default-image.js';
import { GUEST_DIR, type GuestFile, busyboxApplets, readAgent, readBusybox, readGuestTree } from './guest-inputs.js';
import { sha256, sha256File } from './hash.js';
import { type InjectedInitrdManifest, octal, readManifest, writeManifest } from './manifest.js';

export const INJECT_RDINIT = '/provium/init';

export interface InjectedInitrd {
  initrd: string;
  /** The profile's cmdline with its `rdinit=` replaced by the wrapper's. */
  cmdline: string;
  manifest: InjectedInitrdManifest;
  built: boolean;
}

/**
 * The profile's init (its `rdinit=`, default /init) and its cmdline with that
 * word replaced by `rdinit=/provium/init`.
 */
export function redirectInit(cmdline: string): { cmdline: string; targetInit: string } {
  let targetInit = '/init';
  const words = cmdline.split(/\s+/).filter((word) => {
    if (!word.startsWith('rdinit=')) return word !== '';
    targetInit = word.slice('rdinit='.length);
    return false;
  });
  return { cmdline: [...words, `rdinit=${INJECT_RDINIT}`].join(' '), targetInit };
}

async function injectFiles(): Promise<GuestFile[]> {
  const [wrapper] = await readGuestTree(join(GUEST_DIR, 'inject'));
  const supervisor = (await readGuestTree(join(GUEST_DIR, 'rootfs'))).find((f) => f.path === 'sbin/provium-agent-run');
  if (!wrapper || wrapper.path !== 'init' || !supervisor) throw new Error(`${GUEST_DIR}: guest/inject/init or guest/rootfs/sbin/provium-agent-run is missing; reinstall @provium/image`);
  return [
    { ...wrapper, path: 'provium/init' },
    { ...supervisor, path: 'provium/agent-run' },
  ];
}

/** The profile's initrd with the agent appended; built once per input set into `<cache>/images/inject-<key>/`. */
export async function injectAgent(initrdPath: string, profileCmdline: string, options: ImageOptions = {}): Promise<InjectedInitrd> {
  const { cmdline, targetInit } = redirectInit(profileCmdline);
  const [builder, baseSha, busybox, agent, files] = await Promise.all([
    builderFingerprint(),
    sha256File(initrdPath),
    readBusybox(),
    readAgent(options.agentBinary),
    injectFiles(),
  ]);
  const key = sha256(
    JSON.stringify({
      builder,
      base: baseSha,
      busybox: busybox.sha256,
      agent: agent.sha256,
      files: files.map((f) => [f.path, f.mode, f.sha256]),
      targetInit,
    }),
  );
  const imagesDir = imageCacheDir(options.cacheDir);
  const { dir, built } = await installDirOnce(imagesDir, `inject-${key.slice(0, 32)}`, async (temp) => {
    options.onProgress?.(`adding the Provium agent to ${basename(initrdPath)}`);
    const entries: CpioEntry[] = [
      { type: 'file', path: 'provium/busybox', mode: 0o755, data: busybox.data },
      ...[...new Set((await busyboxApplets(busybox)).map((applet) => basename(applet)))].map(
        (applet): CpioEntry => ({ type: 'symlink', path: `provium/bin/${applet}`, target: '/provium/busybox' }),
      ),
      { type: 'file', path: 'provium/provium-agent', mode: 0o755, data: agent.data },
      { type: 'file', path: 'provium/target-init', mode: 0o644, data: Buffer.from(`${targetInit}\n`) },
      // The shell opens /dev/null for a background job; devtmpfs is not mounted yet.
      { type: 'chardev', path: 'dev/null', mode: 0o666, major: 1, minor: 3 },
      ...files.map((f): CpioEntry => ({ type: 'file', path: f.path, mode: f.mode, data: f.data })),
    ];
    const segment = await promisify(gzip)(cpioNewc(entries), { level: 9 });
    const base = await readFile(initrdPath);
    // The kernel skips zero padding between segments; align ours to 4 bytes.
    const output = Buffer.concat([base, Buffer.alloc((4 - (base.length % 4)) % 4), segment]);
    if (sha256(base) !== baseSha) throw new Error(`${initrdPath} changed while the agent was being added; retry`);
    await writeFile(join(temp, 'initrd.img'), output);
    const manifest: InjectedInitrdManifest = {
      kind: 'inject_agent',
      key,
      builder,
      builtAt: new Date().toISOString(),
      baseInitrd: { path: initrdPath, sha256: baseSha },
      targetInit,
      busybox: { path: busybox.path, sha256: busybox.sha256 },
      agent: { path: agent.path, sha256: agent.sha256 },
      guestFiles: files.map((f) => ({ path: f.path, mode: octal(f.mode), sha256: f.sha256 })),
      outputs: { initrd: { file: 'initrd.img', sha256: sha256(output), size: output.length } },
    };
    await writeManifest(temp, manifest);
  });
  await settleImageEntry(imagesDir, dir, built);
  const manifest = await readManifest<InjectedInitrdManifest>(dir, 'inject_agent');
  return { initrd: join(dir, manifest.outputs.initrd.file), cmdline, manifest, built };
}
