import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { walkLuaFiles } from './walk.js';

const dir = mkdtempSync(path.join(tmpdir(), 'provium-walk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
for (const rel of ['a.test.lua', 'sub/b.lua', 'sub/notes.txt', '.hidden/c.lua', 'node_modules/d.lua']) {
  mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  writeFileSync(path.join(dir, rel), '');
}

describe('walking a root', () => {
  it('finds the Lua files, skipping dot-directories and node_modules', () => {
    const out: string[] = [];
    walkLuaFiles(dir, out, 'where', 'advice');
    expect(out.sort()).toEqual([path.join(dir, 'a.test.lua'), path.join(dir, 'sub/b.lua')]);
  });

  it('stops past its bound of entries with an error saying where the root comes from and what to do', () => {
    expect(() => walkLuaFiles(dir, [], 'provium.toml: [provium] roots', 'narrow them', 3)).toThrow(`provium.toml: [provium] roots: more than 3 files and directories under ${dir}: narrow them`);
  });
});
