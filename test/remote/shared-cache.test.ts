/**
 * A fixture cache shared between machines, end to end: the built CLI
 * (`npx tsc -b` first) runs a real fixture on the default guest under QEMU.
 * Each "machine" is a cache directory of its own (sharing only the built
 * guest images); the remote cache is a real nginx with WebDAV PUT on
 * loopback, with basic auth whose password must never show.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';
import { project, proviumWithEnv } from '../cli/helpers.js';
import { newMachine } from './machine.mjs';
import { NGINX, NO_NGINX_REASON, startNginx, type Nginx } from './nginx.mjs';

/** Whether two files hold the same bytes (vitest's deep equality walks a Buffer element by element: minutes for a snapshot). */
const sameBytes = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

const PASSWORD = 'Pw-never-printed-7f3a';
const FILES = {
  'provium.toml': '[provium]\nroots = ["tests"]\n',
  'tests/fixtures/base.fixture.lua': `
local vm = provium:vm("base", "default"):boot()
vm:write_file("/etc/marker", "shared ${Date.now()}\\n")
return vm:snapshot()
`,
  'tests/base.test.lua': `
test("resumes the shared fixture", function(t)
  t:assert_contains(provium:vm_fixture("fixtures/base"):read_file("/etc/marker"), "shared")
end)
`,
};

let dir: string;
const made: string[] = [];
const outputs: string[] = [];

/** A machine's own cache root: empty but for a link to the shared guest images. */
function machine(): string {
  const root = newMachine(path.join(tmpdir(), 'provium-machine-'));
  made.push(root);
  return root;
}

async function run(cache: string, args: string[], env: Record<string, string> = {}) {
  const r = await proviumWithEnv(dir, { PROVIUM_CACHE_DIR: cache, PROVIUM_REMOTE_CACHE_AUTH: `ci:${PASSWORD}`, ...env }, ...args);
  outputs.push(r.stdout, r.stderr);
  return r;
}

async function test(cache: string, ...extra: string[]) {
  // credentials in the URL, then none from the environment (both would be refused)
  const env = extra.some((a) => a.includes('@')) ? { PROVIUM_REMOTE_CACHE_AUTH: '' } : {};
  const r = await run(cache, ['test', '--json', '--timeout-scale', '3', ...extra], env);
  const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
  const of = <E extends RunEvent['event']>(name: E) => events.filter((e): e is Extract<RunEvent, { event: E }> => e.event === name);
  return { ...r, events, of, passed: events.find((e) => e.event === 'run_completed') };
}

const fixtureFiles = (cache: string) => (existsSync(path.join(cache, 'fixtures')) ? readdirSync(path.join(cache, 'fixtures')).filter((n) => /\.(snap|json)$/.test(n)).sort() : []);

describe.skipIf(!NGINX)(`a remote fixture cache on nginx${NGINX ? '' : ` (skipped: ${NO_NGINX_REASON})`}`, () => {
  let nginx: Nginx;
  let key: string;
  let firstCache: string;
  const remote = () => ['--remote-cache', nginx.url];
  const serverObjects = () => readdirSync(nginx.dir).sort();

  beforeAll(async () => {
    dir = project(FILES);
    made.push(dir);
    nginx = await startNginx({ user: 'ci', password: PASSWORD });
  });
  afterAll(async () => {
    await nginx?.stop();
    made.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('a run with an empty remote builds the fixture and uploads it', async () => {
    firstCache = machine();
    const r = await test(firstCache, ...remote());
    expect(r.passed).toMatchObject({ passed: 1, failed: 0 });
    expect(r.of('fixture_build_done').map((e) => e.ok)).toEqual([true]);
    const up = r.of('fixture_remote_upload');
    expect(up).toMatchObject([{ fixture: 'fixtures/base', ok: true }]);
    key = up[0]!.key;
    expect(up[0]!.bytes).toBeGreaterThan(1_000_000);
    expect(serverObjects()).toEqual([`${key}.json`, `${key}.tar`]); // the claim is gone
    expect(r.stderr).not.toMatch(/warning/);
  }, 300_000);

  it('a run on an empty local cache downloads it instead of building', async () => {
    const cache = machine();
    const r = await test(cache, ...remote());
    expect(r.passed).toMatchObject({ passed: 1, failed: 0 });
    expect(r.of('fixture_build_started')).toEqual([]);
    expect(r.of('fixture_remote_hit')).toMatchObject([{ fixture: 'fixtures/base', key }]);
    expect(r.of('fixture_remote_upload')).toEqual([]);
    expect(sameBytes(path.join(cache, 'fixtures', `${key}.snap`), path.join(firstCache, 'fixtures', `${key}.snap`))).toBe(true);
  }, 300_000);

  it('a corrupt object on the server is detected, not used, rebuilt and replaced, and the run passes', async () => {
    const tar = path.join(nginx.dir, `${key}.tar`);
    const bytes = readFileSync(tar);
    bytes.fill(0x5a, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 4096);
    writeFileSync(tar, bytes);
    const cache = machine();
    const r = await test(cache, ...remote());
    expect(r.stderr).toMatch(new RegExp(`provium: warning: remote fixture cache: ${nginx.url}${key}\\.tar: entry ${key.slice(0, 12)}… \\(fixture fixtures/base\\): its content does not match its SHA-256 .*; not used: building it here \\(its upload replaces the object\\)`));
    expect(r.of('fixture_remote_hit')).toEqual([]);
    expect(r.of('fixture_build_done').map((e) => e.ok)).toEqual([true]);
    expect(r.passed).toMatchObject({ passed: 1, failed: 0 });
    const meta = JSON.parse(readFileSync(path.join(nginx.dir, `${key}.json`), 'utf8')) as { sha256: string };
    expect(meta.sha256).toBe(createHash('sha256').update(readFileSync(path.join(cache, 'fixtures', `${key}.snap`))).digest('hex'));
  }, 300_000);

  it('read-only (--remote-cache-read-only) builds what the remote lacks and never writes to it', async () => {
    for (const f of readdirSync(nginx.dir)) rmSync(path.join(nginx.dir, f));
    const before = nginx.requests().length;
    const r = await test(machine(), ...remote(), '--remote-cache-read-only');
    expect(r.passed).toMatchObject({ passed: 1, failed: 0 });
    expect(r.of('fixture_build_done').map((e) => e.ok)).toEqual([true]);
    const made = nginx.requests().slice(before);
    expect(made).toEqual([`GET /cache/${key}.json 404`, `GET /cache/${key}.claim 404`]);
    expect(serverObjects()).toEqual([]);
  }, 300_000);

  it('an unreachable remote warns once, without its credentials, and the run passes', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const url = `http://ci:${PASSWORD}@127.0.0.1:${port}/cache/`;
    const r = await test(machine(), '--remote-cache', url);
    expect(r.passed).toMatchObject({ passed: 1, failed: 0 });
    expect(r.stderr.match(/warning: remote fixture cache/g)).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`warning: remote fixture cache http://127\\.0\\.0\\.1:${port}/cache/ unavailable \\(GET http://127\\.0\\.0\\.1:${port}/cache/[0-9a-f]{64}\\.json: ECONNREFUSED\\); fixtures are built here for the rest of this run`));
  }, 300_000);

  it('no output of any run shows the password', () => {
    expect(outputs.length).toBeGreaterThan(0);
    for (const o of outputs) {
      expect(o).not.toContain(PASSWORD);
      expect(o).not.toContain(Buffer.from(`ci:${PASSWORD}`).toString('base64'));
    }
  });

  describe('provium fixture export / import', () => {
    let archive: string;

    it('export writes the built fixture with its key and sidecar; import into an empty cache makes the next run resume it without building', async () => {
      archive = path.join(dir, 'fixtures.tar');
      const ex = await run(firstCache, ['fixture', 'export', 'fixtures.tar']);
      expect(ex.stderr).toBe('');
      expect(ex.stdout).toMatch(new RegExp(`^  fixtures/base  vm  ${key.slice(0, 12)}\nexported 1 entry to fixtures.tar \\(\\d+\\.\\d MB\\)$`));
      expect(ex.code).toBe(0);
      const cache = machine();
      const im = await run(cache, ['fixture', 'import', 'fixtures.tar']);
      expect(im.stdout).toContain(`imported        fixtures/base  vm  ${key.slice(0, 12)}`);
      expect(im.code).toBe(0);
      expect(fixtureFiles(cache)).toEqual([`${key}.json`, `${key}.snap`]);
      const again = await run(cache, ['fixture', 'import', 'fixtures.tar']);
      expect(again.stdout).toContain('0 imported, 1 already in the cache');
      const r = await test(cache);
      expect(r.passed).toMatchObject({ passed: 1, failed: 0 });
      expect(r.of('fixture_build_started')).toEqual([]);
      expect(r.of('fixture_cache_hit').map((e) => e.key)).toEqual([key]);
    }, 300_000);

    it('a truncated archive is refused whole with a message naming it, and the cache is unchanged', async () => {
      const cut = path.join(dir, 'cut.tar');
      writeFileSync(cut, readFileSync(archive));
      truncateSync(cut, Math.floor(statSync(cut).size * 0.6));
      const cache = machine();
      const r = await run(cache, ['fixture', 'import', 'cut.tar']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^provium: fixture import: cut\.tar is truncated \(.*\): refused whole, nothing imported\n?$/);
      expect(fixtureFiles(cache)).toEqual([]);
      expect(readdirSync(path.join(cache, 'fixtures')).filter((n) => n.startsWith('.'))).toEqual([]);
    }, 60_000);

    it('export of a fixture not built for its current inputs says to build it; an unknown name is a usage error', async () => {
      const stale = machine();
      const r = await run(stale, ['fixture', 'export', 'x.tar', 'fixtures/base']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('provium: fixture fixtures/base has no cache entry for its current inputs (never built): build it first (provium fixture build fixtures/base)');
      const u = await run(stale, ['fixture', 'export', 'x.tar', 'fixtures/nope']);
      expect(u.code).toBe(2);
      expect(u.stderr).toContain('fixture export: unknown fixture "fixtures/nope"; fixtures: fixtures/base');
      expect(existsSync(path.join(dir, 'x.tar'))).toBe(false);
      const m = await run(stale, ['fixture', 'import', 'missing.tar']);
      expect(m.code).toBe(2);
      expect(m.stderr).toContain('provium: fixture import: missing.tar: no such file');
    }, 60_000);
  });
});
