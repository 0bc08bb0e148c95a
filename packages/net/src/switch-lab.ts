/**
 * Unit-test scaffolding for the switch: a real Switch in a temp directory
 * with three FakeNics (a, b, c) on its real sockets. Not exported by the
 * package; the switch's and the captures' unit tests share it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MacString } from './frame.js';
import { emptyImpairments, type SwitchPolicy } from './impairments.js';
import { Switch } from './switch.js';
import { FakeNic } from './testing.js';

export const MAC_A: MacString = '02:00:00:00:00:0a';
export const MAC_B: MacString = '02:00:00:00:00:0b';
export const MAC_C: MacString = '02:00:00:00:00:0c';

/** Polls until `pred` holds (the switch works on its own schedule; no fixed sleeps). */
export async function until(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setTimeout(r, 2));
}

/** A policy with nothing set but `p`. */
export function testPolicy(p: Partial<SwitchPolicy> = {}): SwitchPolicy {
  return { ...emptyImpairments(), detached: [], seed: 1, ...p };
}

/** A switch with NICs a, b, c connected; what ends them and removes the directory goes into `cleanups`. */
export async function switchLab(cleanups: (() => unknown)[], opts: { seed?: number } = {}): Promise<{ sw: Switch; a: FakeNic; b: FakeNic; c: FakeNic }> {
  const root = mkdtempSync(join(tmpdir(), 'pvnet-unit-'));
  const sw = new Switch({ dir: join(root, 'sw'), name: 'test', seed: opts.seed });
  const nics: Record<string, FakeNic> = {};
  for (const [id, mac] of [['a', MAC_A], ['b', MAC_B], ['c', MAC_C]] as const) nics[id] = await FakeNic.connect(await sw.addPort(id, mac), mac);
  await until(() => ['a', 'b', 'c'].every((id) => sw.isConnected(id)));
  cleanups.push(async () => {
    for (const n of Object.values(nics)) n.close();
    await sw.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { sw, ...nics } as { sw: Switch; a: FakeNic; b: FakeNic; c: FakeNic };
}
