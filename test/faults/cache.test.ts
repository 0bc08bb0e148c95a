/**
 * Faults of the fixture cache, end to end: the built CLI (`npx tsc -b` first), real QEMU on the
 * default guest, real zstd, and a real full disk: a tmpfs mounted on the fixtures directory.
 * Whatever the cache does, the run ends with its summary as the last line, and nothing is left
 * half-written, locked or running.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readHeader } from '../../packages/qemu/src/index.js';
import { userShmTemplateDir } from '../../runner/src/fixtures/templates.js';
import { project, proviumWithEnv } from '../cli/helpers.js';
import { processesUsing } from './helpers.js';

const FIXTURE = `
local vm = provium:vm("base", "default"):boot()
vm:write_file("/etc/marker", "cached\\n")
local snap = vm:snapshot()
-- The test's way to fill the disk between the snapshot and its compression into the cache:
-- a file taking all but 1 MiB of the file system the filler path is on.
local fill = os.getenv("PROVIUM_TEST_FILL")
if fill then
  assert(os.execute('avail=$(df --output=avail -B1 "$(dirname "$PROVIUM_TEST_FILL")" | tail -n1); fallocate -l $((avail - 1048576)) "$PROVIUM_TEST_FILL"'))
end
return snap
`;

const SUMMARY = /^\d+ passed, \d+ failed, \d+ skipped$/;
let dir: string;
let cache: string;
let fixtures: string;

beforeAll(() => {
  dir = project({
    'provium.toml': '[provium]\nroots = ["tests"]\n',
    'tests/fixtures/base.fixture.lua': FIXTURE,
    'tests/base.test.lua': `
test("resumes the cached fixture", function(t)
  t:assert_eq(provium:vm_fixture("fixtures/base"):read_file("/etc/marker"), "cached\\n")
end)
`,
  });
  cache = mkdtempSync(path.join(tmpdir(), 'provium-faults-cache-'));
  fixtures = path.join(cache, 'fixtures');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
});

async function run(env: Record<string, string> = {}) {
  return proviumWithEnv(dir, { PROVIUM_CACHE_DIR: cache, ...env }, 'test', '--timeout-scale', '3');
}

/** Names in the fixtures directory that are (parts of) cache entries or builds. */
const entryFiles = () => readdirSync(fixtures).filter((n) => /\.(snap|lab|json)$|partial|^\.build-/.test(n));

describe('a corrupt cache entry', () => {
  it('whose compressed RAM is damaged is removed with a warning naming it, and rebuilt', async () => {
    const first = await run();
    expect(first.lastLine).toBe('1 passed, 0 failed, 0 skipped');
    const snap = readdirSync(fixtures).find((n) => n.endsWith('.snap'))!;
    const entry = path.join(fixtures, snap);
    const { id, ram } = readHeader(entry);
    // damage the start of the RAM section (zstd stops reading at once); the template the first run unpacked would hide that
    const fd = openSync(entry, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, ram!.offset);
    closeSync(fd);
    for (const t of [userShmTemplateDir(), path.join(cache, 'templates')]) for (const ext of ['ram', 'state']) rmSync(path.join(t, `${id}.${ext}`), { force: true });

    const r = await run();
    expect(r.stderr).not.toMatch(/EPIPE|internal error/);
    expect(r.stderr).toMatch(new RegExp(`warning: fixture cache entry ${entry} is corrupt \\(.*its RAM section does not decompress.*\\); removing it and building again`));
    expect(r.stdout).toMatch(/BUILD fixture fixtures\/base/);
    expect(r.lastLine).toBe('1 passed, 0 failed, 0 skipped');
    expect(r.code).toBe(0);
    expect(readHeader(entry).id).not.toBe(id);
  }, 600_000);
});

describe.skipIf(process.getuid?.() !== 0)('a full disk under the fixture cache (a tmpfs on its directory; mounting needs root)', () => {
  const mounted: string[] = [];
  const mount = (size: string) => {
    mkdirSync(fixtures, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', fixtures]);
    mounted.push(fixtures);
  };
  const unmount = () => execFileSync('umount', [mounted.pop()!]);
  afterAll(() => {
    while (mounted.length) unmount();
  });

  /** The run failed cleanly: the build's failure names the file at fault, the summary is last, nothing is left. */
  function expectCleanFailure(r: Awaited<ReturnType<typeof run>>, at: RegExp): void {
    expect(r.stderr).not.toMatch(/EPIPE|internal error/);
    expect(r.code).toBe(1);
    expect(r.lastLine).toBe('0 passed, 1 failed, 0 skipped');
    const lines = r.stdout.trimEnd().split('\n');
    const failed = lines.findIndex((l) => l.startsWith('BUILD FAILED fixture fixtures/base'));
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(lines.slice(failed).join('\n')).toMatch(at);
    expect(lines.findIndex((l) => SUMMARY.test(l))).toBe(lines.length - 1);
    expect(entryFiles()).toEqual([]);
    for (const lock of readdirSync(fixtures).filter((n) => n.endsWith('.lock'))) {
      execFileSync('flock', ['--nonblock', path.join(fixtures, lock), 'true']); // throws when still held
    }
    expect(processesUsing(cache)).toEqual([]); // the build's QEMU
  }

  it('with no room for the build\'s snapshot, the build fails naming the file it could not write', async () => {
    mount('1M');
    try {
      const r = await run();
      expectCleanFailure(r, new RegExp(`cannot write ${fixtures}/\\.build-[^ ]*: its file system is full \\(ENOSPC\\): free space there`));
    } finally {
      unmount();
    }
  }, 600_000);

  it('filling up while the snapshot is compressed into the cache fails the build, leaving no partial entry; with room again it builds', async () => {
    mount('512M');
    const filler = path.join(fixtures, 'filler');
    const r = await run({ PROVIUM_TEST_FILL: filler });
    expectCleanFailure(r, new RegExp(`cannot write ${fixtures}/[0-9a-f]{64}\\.snap: its file system is full \\(ENOSPC\\): free space there`));
    rmSync(filler);
    const again = await run();
    expect(again.lastLine).toBe('1 passed, 0 failed, 0 skipped');
    expect(entryFiles().filter((n) => n.endsWith('.snap'))).toHaveLength(1);
  }, 600_000);
});
