/**
 * The summary is the last line of `provium test`, whatever ends the run: here a fixture build
 * that outlives every file waiting for it (--fail-fast cancels the one that asked). The built
 * CLI (`npx tsc -b` first), real QEMU on the default guest.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { project, proviumWithEnv } from '../cli/helpers.js';
import { processesUsing } from './helpers.js';

let dir: string;
let cache: string;

beforeAll(() => {
  dir = project({
    'provium.toml': '[provium]\nroots = ["tests"]\n',
    // a build that would go on for an hour
    'tests/fixtures/slow.fixture.lua': `
local vm = provium:vm("slow", "default"):boot()
vm:run("sleep 3600")
return vm:snapshot()
`,
    'tests/a.test.lua': `
test("fails once the fixture build has begun", function(t)
  while not os.execute('ls -d "$PROVIUM_CACHE_DIR"/fixtures/.build-* >/dev/null 2>&1') do os.execute("sleep 0.2") end
  error("on purpose")
end)
`,
    'tests/b.test.lua': 'test("waits for the fixture", function(t) provium:vm_fixture("fixtures/slow") end)\n',
  });
  cache = mkdtempSync(path.join(tmpdir(), 'provium-faults-summary-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(cache, { recursive: true, force: true });
});

it('a build no file waits for any more is ended and reported before the summary, which comes last', async () => {
  const r = await proviumWithEnv(dir, { PROVIUM_CACHE_DIR: cache }, 'test', '-j2', '--fail-fast', '--timeout-scale', '3');
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.code).toBe(1);
  const lines = r.stdout.trimEnd().split('\n');
  expect(r.lastLine).toMatch(/^\d+ passed, \d+ failed, \d+ skipped$/);
  const failed = lines.findIndex((l) => l.startsWith('BUILD FAILED fixture fixtures/slow'));
  expect(failed).toBeGreaterThanOrEqual(0);
  expect(lines.slice(failed, failed + 2).join('\n')).toMatch(/the run ended: no file waits for this fixture any more/);
  expect(failed).toBeLessThan(lines.length - 1);
  // the build's QEMU is gone, and nothing of the build is left
  expect(processesUsing(cache)).toEqual([]);
  expect(readdirSync(path.join(cache, 'fixtures')).filter((n) => !n.endsWith('.lock'))).toEqual([]);
}, 600_000);
