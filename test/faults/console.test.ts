/**
 * A guest that floods its serial console: the console log on disk keeps the latest 8 MiB
 * (CONSOLE_LOG_MAX_BYTES), and console expect still finds what comes after the flood.
 * The built CLI (`npx tsc -b` first), real QEMU on the default guest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { project, proviumWithEnv } from '../cli/helpers.js';

let dir: string;
let cache: string;

beforeAll(() => {
  dir = project({
    'provium.toml': '[provium]\nroots = ["tests"]\n',
    'tests/flood.test.lua': `
test("a console flooded past the log's cap keeps the latest output", function(t)
  local vm = provium:vm("flood", "default"):boot()
  local con = vm:console()
  -- 9 MB of x (past the 8 MiB cap), then a marker, straight to the serial port
  vm:run("head -c 9000000 /dev/zero | tr '\\\\0' x > /dev/ttyS0; echo flood-done > /dev/ttyS0"):assert_ok()
  t:assert_eq(con:expect("flood%-done", "300s"), "flood-done")
  local log = con:read_log()
  t:assert(#log <= 8 * 1024 * 1024, "read_log() holds " .. #log .. " bytes")
  t:assert(#log >= 4 * 1024 * 1024, "read_log() holds only " .. #log .. " bytes")
  t:assert_contains(log, "flood-done")
  t:assert(not log:find("provium%-agent: ready"), "the boot messages were not dropped")
  con:write("echo after-$((40+2))\\n")
  t:assert_eq(con:expect("after%-%d+", "60s"), "after-42")
end)
`,
  });
  cache = mkdtempSync(path.join(tmpdir(), 'provium-faults-console-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
});

it('a guest that prints 9 MB to its console leaves a log of the latest 8 MiB at most, and expect goes on working', async () => {
  const r = await proviumWithEnv(dir, { PROVIUM_CACHE_DIR: cache }, 'test', '--timeout-scale', '3');
  expect(r.stdout).not.toMatch(/FAIL|ERROR/);
  expect(r.lastLine).toBe('1 passed, 0 failed, 0 skipped');
}, 600_000);
