import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { settleImageEntry } from './prune-images.js';

const DAY = 24 * 60 * 60 * 1000;
let root: string | undefined;
afterEach(() => root && rmSync(root, { recursive: true, force: true }));

function entry(name: string, ageDays: number): string {
  const dir = join(root!, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.json'), '{}');
  const when = new Date(Date.now() - ageDays * DAY);
  utimesSync(dir, when, when);
  return dir;
}

describe('the image cache', () => {
  it('a build removes the entries unused for a week, whatever their kind, and leaves the rest', async () => {
    root = mkdtempSync(join(tmpdir(), 'pv-prune-'));
    const fresh = entry(`default-${'a'.repeat(32)}`, 0);
    entry(`default-${'b'.repeat(32)}`, 8);
    entry(`debian-${'c'.repeat(32)}`, 30);
    entry(`inject-${'d'.repeat(32)}`, 9);
    const recent = entry(`debian-${'e'.repeat(32)}`, 6);
    entry('downloads', 90);
    writeFileSync(join(root, 'disk-hashes.json'), '{}');
    const built = entry(`default-${'f'.repeat(32)}`, 20); // as old as its inputs' mtime may make it
    await settleImageEntry(root, built, true);
    expect(readdirSync(root).sort()).toEqual(['debian-' + 'e'.repeat(32), 'default-' + 'a'.repeat(32), 'default-' + 'f'.repeat(32), 'disk-hashes.json', 'downloads']);
    expect([fresh, recent].every((d) => existsSync(join(d, 'manifest.json')))).toBe(true);
  });

  it('a hit marks its entry used, so a later build keeps it', async () => {
    root = mkdtempSync(join(tmpdir(), 'pv-prune-'));
    const old = entry(`default-${'1'.repeat(32)}`, 10);
    await settleImageEntry(root, old, false);
    expect(Date.now() - statSync(old).mtimeMs).toBeLessThan(DAY);
    await settleImageEntry(root, entry(`default-${'2'.repeat(32)}`, 0), true);
    expect(existsSync(old)).toBe(true);
  });
});
