import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cpioNewc } from './cpio.js';

describe('cpioNewc', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('writes an archive that GNU cpio lists and extracts, parents first', () => {
    const archive = cpioNewc([
      { type: 'file', path: '/etc/motd', mode: 0o644, data: Buffer.from('hello\n') },
      { type: 'file', path: 'bin/tool', mode: 0o755, data: Buffer.from('#!/bin/sh\necho odd-length') },
      { type: 'symlink', path: 'bin/sh', target: '/bin/busybox' },
      { type: 'dir', path: 'tmp', mode: 0o1777 },
      { type: 'chardev', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
    ]);
    expect(archive.length % 4).toBe(0);
    const listing = execFileSync('cpio', ['-it', '--quiet'], { input: archive }).toString().trim().split('\n');
    expect(listing).toEqual(['etc', 'etc/motd', 'bin', 'bin/tool', 'bin/sh', 'tmp', 'dev', 'dev/console']);

    const verbose = execFileSync('cpio', ['-itv', '--quiet'], { input: archive }).toString();
    expect(verbose).toMatch(/^crw-------.* 5,\s+1 .*dev\/console$/m);

    // Extract without the device node (creating one needs root).
    dir = mkdtempSync(join(tmpdir(), 'cpio-test-'));
    execFileSync('cpio', ['-id', '--quiet', '--no-absolute-filenames', 'etc/*', 'bin/*', 'tmp'], { cwd: dir, input: archive });
    expect(readFileSync(join(dir, 'etc/motd'), 'utf8')).toBe('hello\n');
    expect(readFileSync(join(dir, 'bin/tool'), 'utf8')).toBe('#!/bin/sh\necho odd-length');
    expect(statSync(join(dir, 'bin/tool')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(dir, 'bin/sh'))).toBe('/bin/busybox');
    expect(statSync(join(dir, 'tmp')).mode & 0o7777).toBe(0o1777);
  });

  it('is reproducible byte for byte', () => {
    const entries = [{ type: 'file' as const, path: 'a/b', mode: 0o644, data: Buffer.from('x') }];
    expect(cpioNewc(entries).equals(cpioNewc(entries))).toBe(true);
  });

  it('rejects duplicate and escaping paths', () => {
    expect(() => cpioNewc([{ type: 'dir', path: 'a' }, { type: 'dir', path: '/a/' }])).toThrow(/duplicate archive path "a"/);
    expect(() => cpioNewc([{ type: 'dir', path: 'a/../b' }])).toThrow(/invalid archive path "a\/..\/b"/);
  });
});
