import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installDirOnce } from './atomic-install.js';

describe('installDirOnce', () => {
  let parent: string;
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'atomic-install-'));
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  it('lets exactly one of two racing builders install; the other uses its result', async () => {
    // Both builders are inside build() before either renames.
    let arrived = 0;
    let release!: () => void;
    const bothInside = new Promise<void>((resolve) => (release = resolve));
    const builder = (label: string) => async (temp: string) => {
      writeFileSync(join(temp, 'content'), label);
      if (++arrived === 2) release();
      await bothInside;
    };
    const [a, b] = await Promise.all([installDirOnce(parent, 'entry', builder('a')), installDirOnce(parent, 'entry', builder('b'))]);
    expect(a.dir).toBe(join(parent, 'entry'));
    expect(b.dir).toBe(a.dir);
    expect([a.built, b.built].sort()).toEqual([false, true]);
    expect(['a', 'b']).toContain(readFileSync(join(a.dir, 'content'), 'utf8'));
    expect(readdirSync(parent)).toEqual(['entry']);
  });

  it('does not build an entry that exists', async () => {
    mkdirSync(join(parent, 'entry'));
    const result = await installDirOnce(parent, 'entry', () => Promise.reject(new Error('must not build')));
    expect(result.built).toBe(false);
  });

  it('leaves nothing behind when the build fails, and sweeps temp dirs of dead processes', async () => {
    const dead = spawn('true');
    await new Promise((resolve) => dead.on('exit', resolve));
    mkdirSync(join(parent, `.tmp-${dead.pid}-crashed`));
    mkdirSync(join(parent, `.tmp-${process.ppid}-alive`));

    await expect(
      installDirOnce(parent, 'entry', async (temp) => {
        writeFileSync(join(temp, 'half'), 'x');
        throw new Error('build broke');
      }),
    ).rejects.toThrow('build broke');
    // The crashed builder's dir is gone; a live process's dir is kept.
    expect(readdirSync(parent)).toEqual([`.tmp-${process.ppid}-alive`]);
  });

  it('replaces an existing entry when asked, leaving no temp dirs', async () => {
    await installDirOnce(parent, 'entry', async (temp) => writeFileSync(join(temp, 'content'), 'old'));
    const result = await installDirOnce(parent, 'entry', async (temp) => writeFileSync(join(temp, 'content'), 'new'), { replace: true });
    expect(result.built).toBe(true);
    expect(readdirSync(result.dir)).toEqual(['content']);
    expect(readFileSync(join(result.dir, 'content'), 'utf8')).toBe('new');
    expect(readdirSync(parent)).toEqual(['entry']);
  });
});
