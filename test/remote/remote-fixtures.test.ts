/**
 * The remote fixture cache against a real nginx with WebDAV PUT on loopback,
 * with cache entries of random bytes (what a run does with a real fixture is
 * in run.test.ts): uploads and verified downloads, damaged objects, read-only
 * runs, an unreachable or silent server, claims between two machines, and
 * credentials that never show.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';
import type { RemoteCacheSettings } from '../../runner/src/config/remote-cache.js';
import { entryPath, readSidecar, writeSidecar } from '../../runner/src/fixtures/cache.js';
import { entryHash } from '../../runner/src/fixtures/entry-hash.js';
import { RemoteFixtures } from '../../runner/src/fixtures/remote/remote-fixtures.js';
import { NGINX, NO_NGINX_REASON, startNginx, type Nginx } from './nginx.mjs';

/** Whether two files hold the same bytes (vitest's deep equality walks a Buffer element by element: minutes for a snapshot). */
const sameBytes = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

const PASSWORD = 'hunter2-Secret';
const AUTH = `Basic ${Buffer.from(`ci:${PASSWORD}`).toString('base64')}`;
const key = (s: string) => createHash('sha256').update(s).digest('hex');

let nginx: Nginx;
let root: string;
const never = new AbortController().signal;

/** One machine's view: its own cache directory, events and warnings. */
function machine(name: string, over: Partial<RemoteCacheSettings> = {}, claimTtlMs = 60_000) {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const events: RunEvent[] = [];
  const warnings: string[] = [];
  const remote = new RemoteFixtures({
    settings: { url: nginx.url, upload: true, authorization: AUTH, timeoutMs: 5_000, ...over },
    dir,
    emit: (e) => events.push(e),
    warn: (m) => warnings.push(m),
    signal: never,
    claimTtlMs,
  });
  return { dir, events, warnings, remote };
}

/** Installs a VM entry of random bytes under `k`, as a build would. */
async function build(dir: string, k: string, parents: string[] = []): Promise<void> {
  writeFileSync(entryPath(dir, k, 'vm'), randomBytes(400_000));
  writeSidecar(dir, k, { name: 'fixtures/base', kind: 'vm', bytes: 0, built_at: new Date().toISOString(), duration_ms: 1, sha256: await entryHash(entryPath(dir, k, 'vm'), 'vm'), parents });
}

let seen = 0;
/** The PUT requests of the current test. */
const puts = () => nginx.requests().slice(seen).filter((r) => r.startsWith('PUT '));
const objects = () => readdirSync(nginx.dir).sort();

describe.skipIf(!NGINX)(`remote fixture cache on nginx${NGINX ? '' : ` (skipped: ${NO_NGINX_REASON})`}`, () => {
  beforeAll(async () => {
    nginx = await startNginx({ user: 'ci', password: PASSWORD });
  });
  afterAll(async () => {
    await nginx?.stop();
  });
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'provium-remote-test-'));
    for (const f of readdirSync(nginx.dir)) rmSync(path.join(nginx.dir, f), { recursive: true });
    seen = nginx.requests().length;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('a miss claims the key; the build is uploaded (parents first) and the claim dropped; another machine downloads it verified', async () => {
    const a = machine('a');
    const k = key('base');
    const parent = key('parent');
    expect(await a.remote.fetch(k, 'fixtures/base', 'tests/a.test.lua', never)).toBe(false);
    expect(objects()).toEqual([`${k}.claim`]);
    await build(a.dir, parent);
    await build(a.dir, k, [parent]);
    a.remote.built(k, 'fixtures/base', true);
    await a.remote.close();
    expect(objects()).toEqual([`${parent}.json`, `${parent}.tar`, `${k}.json`, `${k}.tar`].sort());
    // the claim, then the parent the server lacks, then the entry; each .json after its .tar
    expect(puts().map((r) => r.split(' ')[1])).toEqual([`${k}.claim`, `${parent}.tar`, `${parent}.json`, `${k}.tar`, `${k}.json`].map((n) => `/cache/${n}`));
    expect(a.events).toMatchObject([{ event: 'fixture_remote_upload', fixture: 'fixtures/base', key: k, ok: true }]);
    expect(a.warnings).toEqual([]);

    const b = machine('b');
    expect(await b.remote.fetch(k, 'fixtures/base', 'tests/b.test.lua', never)).toBe(true);
    expect(sameBytes(entryPath(b.dir, k, 'vm'), entryPath(a.dir, k, 'vm'))).toBe(true);
    expect(sameBytes(entryPath(b.dir, parent, 'vm'), entryPath(a.dir, parent, 'vm'))).toBe(true);
    expect(readSidecar(b.dir, k)).toMatchObject({ sha256: readSidecar(a.dir, k)!.sha256, parents: [parent] });
    expect(readdirSync(b.dir).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(b.warnings).toEqual([]);
  });

  it('a damaged object on the server is detected, not used, and replaced by the upload of the local build', async () => {
    const a = machine('a');
    const k = key('damaged');
    await a.remote.fetch(k, 'fixtures/base', 't', never);
    await build(a.dir, k);
    a.remote.built(k, 'fixtures/base', true);
    await a.remote.close();
    const tar = path.join(nginx.dir, `${k}.tar`);
    const bytes = readFileSync(tar);
    const at = bytes.indexOf(`${k}.snap`) + 512 + 1000;
    bytes[at] = bytes[at]! ^ 0x55;
    writeFileSync(tar, bytes);

    const b = machine('b');
    expect(await b.remote.fetch(k, 'fixtures/base', 't', never)).toBe(false);
    expect(existsSync(entryPath(b.dir, k, 'vm'))).toBe(false);
    expect(b.warnings).toHaveLength(1);
    expect(b.warnings[0]).toMatch(new RegExp(`^remote fixture cache: ${nginx.url}${k}\\.tar: entry ${k.slice(0, 12)}… \\(fixture fixtures/base\\): its content does not match its SHA-256 .*; not used: building it here \\(its upload replaces the object\\)$`));
    await build(b.dir, k);
    b.remote.built(k, 'fixtures/base', true);
    await b.remote.close();
    const c = machine('c');
    expect(await c.remote.fetch(k, 'fixtures/base', 't', never)).toBe(true);
    expect(sameBytes(entryPath(c.dir, k, 'vm'), entryPath(b.dir, k, 'vm'))).toBe(true);
  });

  it('metadata that is not a sidecar counts as a damaged object', async () => {
    const k = key('bad-meta');
    writeFileSync(path.join(nginx.dir, `${k}.json`), '{"name": "fixtures/base", "kind": "vm"}');
    const a = machine('a', { upload: false });
    expect(await a.remote.fetch(k, 'fixtures/base', 't', never)).toBe(false);
    expect(a.warnings).toEqual([`remote fixture cache: ${nginx.url}${k}.json names no sha256 to verify the entry with; not used: building it here`]);
  });

  it('read-only: downloads, but never claims, uploads or deletes', async () => {
    const writer = machine('w');
    const k = key('ro');
    await writer.remote.fetch(k, 'fixtures/base', 't', never);
    await build(writer.dir, k);
    writer.remote.built(k, 'fixtures/base', true);
    await writer.remote.close();
    const before = nginx.requests().length;

    const ro = machine('ro', { upload: false });
    expect(await ro.remote.fetch(k, 'fixtures/base', 't', never)).toBe(true);
    const other = key('ro-missing');
    expect(await ro.remote.fetch(other, 'fixtures/web', 't', never)).toBe(false);
    await build(ro.dir, other);
    ro.remote.built(other, 'fixtures/web', true);
    await ro.remote.close();
    const made = nginx.requests().slice(before);
    expect(made.filter((r) => !/^(GET|HEAD) /.test(r))).toEqual([]);
    expect(made.length).toBeGreaterThan(0);
    expect(ro.events).toEqual([]);
  });

  it('an unreachable server is warned once; later lookups do not ask it again', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const a = machine('a', { url: `http://127.0.0.1:${closed}/cache/` });
    for (const name of ['one', 'two', 'three']) expect(await a.remote.fetch(key(name), `fixtures/${name}`, 't', never)).toBe(false);
    a.remote.built(key('one'), 'fixtures/one', true);
    await a.remote.close();
    expect(a.warnings).toEqual([`remote fixture cache http://127.0.0.1:${closed}/cache/ unavailable (GET http://127.0.0.1:${closed}/cache/${key('one')}.json: ECONNREFUSED); fixtures are built here for the rest of this run`]);
  });

  it('a server that accepts and never answers is given up after the timeout, once', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const { port } = silent.address() as { port: number };
    try {
      const a = machine('a', { url: `http://127.0.0.1:${port}/cache/`, timeoutMs: 300 });
      expect(await a.remote.fetch(key('x'), 'fixtures/x', 't', never)).toBe(false);
      expect(await a.remote.fetch(key('y'), 'fixtures/y', 't', never)).toBe(false);
      expect(a.warnings).toEqual([`remote fixture cache http://127.0.0.1:${port}/cache/ unavailable (GET http://127.0.0.1:${port}/cache/${key('x')}.json: no answer for 0.3 s); fixtures are built here for the rest of this run`]);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => silent.close(r));
    }
  });

  it('refused credentials are warned without showing them', async () => {
    const wrong = `Basic ${Buffer.from('ci:not-the-password').toString('base64')}`;
    const a = machine('a', { authorization: wrong });
    expect(await a.remote.fetch(key('auth'), 'fixtures/base', 't', never)).toBe(false);
    expect(a.warnings).toHaveLength(1);
    expect(a.warnings[0]).toContain('HTTP 401 Unauthorized: the server refuses these credentials (PROVIUM_REMOTE_CACHE_AUTH=user:password or PROVIUM_REMOTE_CACHE_TOKEN)');
    expect(a.warnings[0]).not.toContain('not-the-password');
    expect(a.warnings[0]).not.toContain(Buffer.from('ci:not-the-password').toString('base64'));
  });

  it('a machine that finds another\'s live claim waits for its upload and downloads it: built once in all', async () => {
    const a = machine('a');
    const b = machine('b');
    const k = key('raced');
    expect(await a.remote.fetch(k, 'fixtures/base', 'shard 1', never)).toBe(false); // a claims and builds
    const waiting = b.remote.fetch(k, 'fixtures/base', 'shard 2', never);
    await new Promise((r) => setTimeout(r, 500));
    await build(a.dir, k);
    a.remote.built(k, 'fixtures/base', true);
    await a.remote.close();
    expect(await waiting).toBe(true);
    expect(b.events).toMatchObject([{ event: 'fixture_build_waiting', fixture: 'fixtures/base', for: 'shard 2' }]);
    expect((b.events[0] as { reason: string }).reason).toMatch(/^.+ pid \d+ run [0-9a-f]{8} is building it for the remote cache: waiting up to \d+ s for its upload$/);
    expect(puts().filter((r) => r.includes('.tar '))).toHaveLength(1);
    expect(sameBytes(entryPath(b.dir, k, 'vm'), entryPath(a.dir, k, 'vm'))).toBe(true);
  });

  it('a claim whose builder gave up, or that expired, stops the wait: the waiter builds itself', async () => {
    const a = machine('a');
    const b = machine('b');
    const k = key('gave-up');
    await a.remote.fetch(k, 'fixtures/base', 'shard 1', never);
    const waiting = b.remote.fetch(k, 'fixtures/base', 'shard 2', never);
    await new Promise((r) => setTimeout(r, 300));
    a.remote.built(k, 'fixtures/base', false); // its build failed: the claim goes
    await a.remote.close();
    expect(await waiting).toBe(false);
    expect(b.warnings).toEqual([expect.stringMatching(/^waited \d+ s for .+ to build fixture fixtures\/base for the remote cache; its claim is gone or expired without an upload: building it here$/)]);
    expect(objects()).toEqual([`${k}.claim`]); // b's own claim now

    const expired = key('expired');
    writeFileSync(path.join(nginx.dir, `${expired}.claim`), JSON.stringify({ owner: 'elsewhere pid 1 run 00000000', fixture: 'fixtures/base', expires_at: new Date(Date.now() - 1000).toISOString() }));
    const c = machine('c');
    expect(await c.remote.fetch(expired, 'fixtures/base', 'shard 3', never)).toBe(false);
    expect(c.events).toEqual([]); // no wait
  });

  it('a wait is bounded by the claim\'s expiry', async () => {
    const k = key('bounded');
    writeFileSync(path.join(nginx.dir, `${k}.claim`), JSON.stringify({ owner: 'elsewhere pid 1 run 00000000', fixture: 'fixtures/base', expires_at: new Date(Date.now() + 1500).toISOString() }));
    const a = machine('a', { upload: false });
    expect(await a.remote.fetch(k, 'fixtures/base', 'shard', never)).toBe(false);
    expect(a.events).toMatchObject([{ event: 'fixture_build_waiting' }]);
    expect(a.warnings).toEqual([expect.stringMatching(/^waited [12] s for elsewhere pid 1 run 00000000 to build fixture fixtures\/base for the remote cache; its claim is gone or expired without an upload: building it here$/)]);
  });
});
