import { execFileSync } from 'node:child_process';
import { lstat, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AgentError } from '@provium/agent';
import { sharedAgent } from './harness.js';

const agent = sharedAgent();
let root: string;

beforeAll(async () => {
  root = join(agent.h.dir, 'files');
  await agent.client.mkdir(root);
});

async function failure(p: Promise<unknown>): Promise<AgentError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentError);
  return err as AgentError;
}

describe('whole files', () => {
  it('writes and reads binary data', async () => {
    const data = Buffer.from([0, 255, 10, 13, 0, 128]);
    const path = join(root, 'bin');
    await agent.client.writeFile(path, data);
    expect((await agent.client.readFile(path)).equals(data)).toBe(true);
    expect((await readFile(path)).equals(data)).toBe(true);
  });

  it('applies an explicit mode exactly, also to an existing file', async () => {
    const path = join(root, 'script');
    await agent.client.writeFile(path, 'one', { mode: 0o640 });
    expect((await stat(path)).mode & 0o7777).toBe(0o640);
    await agent.client.writeFile(path, '#!/bin/sh\necho ran\n', { mode: 0o755 });
    expect((await stat(path)).mode & 0o7777).toBe(0o755);
    expect((await agent.client.exec([path])).stdout.toString()).toBe('ran\n');
  });

  it('names the path of a missing file', async () => {
    const path = join(root, 'missing', 'file');
    const err = await failure(agent.client.readFile(path));
    expect(err).toMatchObject({ code: 'ENOENT', path, op: 'read_file' });
    expect(err.message).toBe(`agent read_file "${path}": ENOENT (No such file or directory)`);
    expect((await failure(agent.client.writeFile(path, 'x'))).message).toContain(path);
  });

  it('refuses to read a directory', async () => {
    expect((await failure(agent.client.readFile(root))).code).toBe('EISDIR');
  });
});

describe('metadata and directories', () => {
  it('stats files, directories, devices and fifos, following symlinks', async () => {
    const file = join(root, 'stat-me');
    await writeFile(file, '12345');
    await symlink('stat-me', join(root, 'link'));
    const local = await stat(file, { bigint: true });
    const s = await agent.client.stat(file);
    expect(s).toMatchObject({
      size: 5,
      entryType: 'file',
      perm: Number(local.mode) & 0o7777,
      uid: Number(local.uid),
      gid: Number(local.gid),
      mtimeSec: Number(local.mtimeNs / 1_000_000_000n),
      mtimeNsec: Number(local.mtimeNs % 1_000_000_000n),
    });
    expect(s.mtime).toBe(s.mtimeSec + s.mtimeNsec / 1e9);
    expect((await agent.client.stat(root)).entryType).toBe('directory');
    expect(await agent.client.stat(join(root, 'link'))).toMatchObject({ entryType: 'file', size: 5 });
    expect((await agent.client.stat('/dev/null')).entryType).toBe('char_device');
    execFileSync('mkfifo', [join(root, 'fifo')]);
    expect((await agent.client.stat(join(root, 'fifo'))).entryType).toBe('fifo');
    expect((await failure(agent.client.stat(join(root, 'nope')))).code).toBe('ENOENT');
  });

  it('lists a directory sorted, with entry types', async () => {
    const dir = join(root, 'list');
    await agent.client.mkdir(join(dir, 'sub'), { parents: true });
    await agent.client.writeFile(join(dir, 'b.txt'), 'b');
    await agent.client.writeFile(join(dir, 'a.txt'), 'a');
    await symlink('a.txt', join(dir, 'c-link'));
    expect(await agent.client.listdir(dir)).toEqual([
      { name: 'a.txt', entryType: 'file' },
      { name: 'b.txt', entryType: 'file' },
      { name: 'c-link', entryType: 'symlink' },
      { name: 'sub', entryType: 'directory' },
    ]);
    expect((await failure(agent.client.listdir(join(dir, 'a.txt')))).code).toBe('ENOTDIR');
  });

  it('mkdir: parents creates the chain and accepts an existing directory; without it EEXIST/ENOENT', async () => {
    const deep = join(root, 'p', 'q', 'r');
    await agent.client.mkdir(deep, { parents: true, mode: 0o750 });
    expect((await lstat(deep)).isDirectory()).toBe(true);
    await agent.client.mkdir(deep, { parents: true });
    expect(await failure(agent.client.mkdir(deep))).toMatchObject({ code: 'EEXIST', path: deep });
    const orphan = join(root, 'x', 'y');
    expect(await failure(agent.client.mkdir(orphan))).toMatchObject({ code: 'ENOENT', path: orphan });
    await agent.client.writeFile(join(root, 'plain'), '');
    const blocked = join(root, 'plain', 'sub');
    expect(await failure(agent.client.mkdir(blocked, { parents: true }))).toMatchObject({ code: 'ENOTDIR' });
  });

  it('unlink removes files, symlinks and empty directories', async () => {
    const dir = join(root, 'gone');
    await agent.client.mkdir(dir);
    await agent.client.writeFile(join(dir, 'f'), 'x');
    await symlink('f', join(dir, 'l'));
    expect((await failure(agent.client.unlink(dir))).code).toBe('ENOTEMPTY');
    await agent.client.unlink(join(dir, 'l'));
    expect(await readlink(join(dir, 'l')).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ENOENT');
    await agent.client.unlink(join(dir, 'f'));
    await agent.client.unlink(dir);
    expect(await failure(agent.client.unlink(dir))).toMatchObject({ code: 'ENOENT', path: dir });
  });

  it('rename moves a file and names both paths on failure', async () => {
    const from = join(root, 'from');
    const to = join(root, 'to');
    await agent.client.writeFile(from, 'moved');
    await agent.client.rename(from, to);
    expect((await readFile(to)).toString()).toBe('moved');
    const err = await failure(agent.client.rename(from, to));
    expect(err).toMatchObject({ code: 'ENOENT', path: from, path2: to });
    expect(err.message).toBe(`agent rename "${from}" -> "${to}": ENOENT (No such file or directory)`);
  });
});

describe('file handles', () => {
  it('writes, seeks, tells and reads', async () => {
    const path = join(root, 'handle');
    const f = await agent.client.open(path, 'w+');
    expect(await f.write('hello world')).toBe(11);
    expect(await f.tell()).toBe(11);
    expect(await f.seek(6)).toBe(6);
    expect((await f.read(100)).toString()).toBe('world');
    expect((await f.read(100)).length).toBe(0);
    expect(await f.seek(-5, 'end')).toBe(6);
    expect(await f.seek(-1, 'cur')).toBe(5);
    await f.write(Buffer.from([0, 255]));
    await f.seek(0);
    expect((await f.readAll()).equals(Buffer.from('hello\u0000\u00fforld', 'latin1'))).toBe(true);
    await f.close();
    await expect(f.tell()).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('appends with mode a and reads with rb', async () => {
    const path = join(root, 'append');
    await agent.client.writeFile(path, 'one,');
    const a = await agent.client.open(path, 'a');
    await a.write('two');
    await a.close();
    const r = await agent.client.open(path, 'rb' as 'r');
    expect((await r.readAll()).toString()).toBe('one,two');
    await expect(r.write('x')).rejects.toMatchObject({ code: 'EBADF', path });
    await r.close();
  });

  it('reports errors of open with the path, and bad modes and whence by value', async () => {
    const path = join(root, 'nodir', 'f');
    expect(await failure(agent.client.open(path))).toMatchObject({ code: 'ENOENT', path });
    await expect(agent.client.open(join(root, 'append'), 'rw' as 'r')).rejects.toThrow("unknown mode 'rw'");
    const f = await agent.client.open(join(root, 'append'));
    await expect(f.seek(0, 'middle' as 'set')).rejects.toThrow("whence must be set, cur or end, got 'middle'");
    await expect(f.seek(-100, 'set')).rejects.toMatchObject({ code: 'EINVAL' });
    await f.close();
  });
});
