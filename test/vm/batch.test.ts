/**
 * vm:batch end to end: a real Lua file run by the built CLI against the real
 * default guest (one VM, shared by every test of the file). The Lua file is
 * batch/batch.test.lua.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');

let dir: string;
let events: RunEvent[];
let stderr: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-batch-'));
  cpSync(path.join(__dirname, 'batch'), dir, { recursive: true });
  const r = await execa('node', [CLI, 'test', '--json', '--timeout-scale', '3', '.'], { cwd: dir, reject: false });
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
  stderr = r.stderr;
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it.each([
  'mixed operations come back in call order',
  'a failing operation does not stop the later ones',
  'an empty batch returns {}; sending is a guest op',
  'an error inside fn propagates and nothing is sent',
  'fn may wait on the guest itself while it records',
  'bad builder arguments name the operation and the argument',
  'b:syscall: integers only, run in the agent, a failing call is still ok',
])('%s', (name) => {
  const e = events.find((x) => 'test' in x && x.test === name && x.event !== 'test_started');
  expect(e?.event, `${JSON.stringify(e)}\n${stderr}`).toBe('test_passed');
});
