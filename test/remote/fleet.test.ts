/**
 * A CI fleet on one machine (issue 18): a suite whose VM files resume one
 * fixture runs as three shards, three `provium test` processes started
 * together, each with a local cache of its own (sharing only the built guest
 * images) and one remote cache, a real nginx with WebDAV PUT on loopback.
 * Every test runs exactly once across the shards, the fixture is built once
 * for the whole fleet (the others wait for its upload, or find it), and the
 * merge of the shards' event files gives the same JUnit cases and outcomes as
 * an unsharded run.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';
import { project, proviumWithEnv } from '../cli/helpers.js';
import { newMachine } from './machine.mjs';
import { NGINX, NO_NGINX_REASON, startNginx, type Nginx } from './nginx.mjs';

const made: string[] = [];
let dir: string;
let nginx: Nginx;

const files: Record<string, string> = {
  'provium.toml': '[provium]\nroots = ["tests"]\n',
  'tests/fixtures/base.fixture.lua': `
local vm = provium:vm("base", "default"):boot()
vm:write_file("/etc/marker", "fleet ${Date.now()}\\n")
return vm:snapshot()
`,
  'tests/plain.test.lua': 'test("arithmetic", function(t) t:assert_eq(1 + 1, 2) end)\ntest("skipped", { skip = "on purpose" }, function(t) end)\n',
  'tests/failing.test.lua': 'test("fails on purpose", function(t) t:fail("expected") end)\n',
};
for (let i = 1; i <= 4; i++) {
  files[`tests/vm${i}.test.lua`] = `
test("vm ${i} resumes the fixture", function(t)
  t:assert_contains(provium:vm_fixture("fixtures/base"):read_file("/etc/marker"), "fleet")
end)
`;
}

/** A machine's own cache root: empty but for a link to the shared guest images. */
function machine(): string {
  const root = newMachine(path.join(tmpdir(), 'provium-fleet-machine-'));
  made.push(root);
  return root;
}

const eventsOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);

/** JUnit testcases as `classname / name -> outcome`, sorted: times and ordering left out. */
function cases(xml: string): string[] {
  return [...xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)]
    .map((m) => {
      const attr = (n: string) => new RegExp(`${n}="([^"]*)"`).exec(m[1])?.[1];
      const body = m[3] ?? '';
      const outcome = /<failure\b/.test(body) ? 'failed' : /<error\b/.test(body) ? 'error' : /<skipped\b/.test(body) ? 'skipped' : 'passed';
      return `${attr('classname')} / ${attr('name')} -> ${outcome}`;
    })
    .sort();
}

describe.skipIf(!NGINX)(`three shards with one remote fixture cache${NGINX ? '' : ` (skipped: ${NO_NGINX_REASON})`}`, () => {
  const shardEvents: RunEvent[][] = [];
  let merged: { code: number; stdout: string; junit: string };

  beforeAll(async () => {
    dir = project(files);
    made.push(dir);
    nginx = await startNginx();
    const env = (cache: string) => ({ PROVIUM_CACHE_DIR: cache, PROVIUM_REMOTE_CACHE: nginx.url });
    const shards = await Promise.all(
      [1, 2, 3].map((k) => proviumWithEnv(dir, env(machine()), 'test', '--shard', `${k}/3`, '--timeout-scale', '3', '--save-events', `events-${k}.jsonl`)),
    );
    for (const [i, r] of shards.entries()) {
      expect(r.stderr, `shard ${i + 1}`).not.toMatch(/internal|warning: remote/i);
      shardEvents.push(eventsOf(path.join(dir, `events-${i + 1}.jsonl`)));
    }
    const m = await proviumWithEnv(dir, {}, 'report', 'merge', 'events-1.jsonl', 'events-2.jsonl', 'events-3.jsonl', '--reporter', 'junit', '--output', 'merged.xml');
    merged = { code: m.code, stdout: m.stdout, junit: readFileSync(path.join(dir, 'merged.xml'), 'utf8') };
  }, 600_000);

  afterAll(async () => {
    await nginx?.stop();
    made.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('every test runs in exactly one shard, and every file is in one', () => {
    const ran = shardEvents.flatMap((evs) => evs.filter((e) => e.event === 'test_passed' || e.event === 'test_failed' || e.event === 'test_skipped').map((e) => `${(e as { file: string }).file} :: ${(e as { test: string }).test}`));
    expect(ran.sort()).toEqual([
      'tests/failing.test.lua :: fails on purpose',
      'tests/plain.test.lua :: arithmetic',
      'tests/plain.test.lua :: skipped',
      ...[1, 2, 3, 4].map((i) => `tests/vm${i}.test.lua :: vm ${i} resumes the fixture`),
    ]);
    const filesRun = shardEvents.flatMap((evs) => evs.filter((e) => e.event === 'file_completed').map((e) => (e as { file: string }).file));
    expect(new Set(filesRun).size).toBe(filesRun.length);
    expect(filesRun).toHaveLength(6);
  });

  it('the fixture is built once for the fleet: the other shards that need it download it', () => {
    const all = shardEvents.flat();
    expect(all.filter((e) => e.event === 'fixture_build_started')).toHaveLength(1);
    const users = shardEvents.filter((evs) => evs.some((e) => e.event === 'test_passed' && /vm \d resumes/.test((e as { test: string }).test)));
    const builders = shardEvents.filter((evs) => evs.some((e) => e.event === 'fixture_build_started'));
    expect(builders).toHaveLength(1);
    for (const evs of users) {
      if (builders.includes(evs)) continue;
      expect(evs.some((e) => e.event === 'fixture_remote_hit')).toBe(true);
    }
    expect(all.filter((e) => e.event === 'fixture_remote_upload' && (e as { ok: boolean }).ok)).toHaveLength(1);
  });

  it('the merged report equals an unsharded run: the same JUnit cases and outcomes, the same summary and exit status', async () => {
    const whole = await proviumWithEnv(dir, { PROVIUM_CACHE_DIR: machine(), PROVIUM_REMOTE_CACHE: nginx.url }, 'test', '--timeout-scale', '3', '--reporter', 'junit', '--output', 'whole.xml');
    expect(whole.code).toBe(1); // the failing test
    expect(merged.code).toBe(whole.code);
    expect(merged.stdout.trim().split('\n').at(-1)).toBe(whole.stdout.trim().split('\n').at(-1));
    expect(merged.stdout.trim().split('\n').at(-1)).toBe('5 passed, 1 failed, 1 skipped');
    const wholeCases = cases(readFileSync(path.join(dir, 'whole.xml'), 'utf8'));
    expect(wholeCases).toHaveLength(7);
    expect(cases(merged.junit)).toEqual(wholeCases);
  }, 300_000);
});
