/**
 * The VM API end to end: real Lua test files run by the built CLI (worker
 * threads, host services over the port), booting the real default guest under
 * QEMU. Four boots in all (a; l1 and l2 as one lab; t); each file shares its
 * VMs between its tests. The Lua files are in vm-api/.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileCompleted, RunEvent, TestFailed } from '@provium/types';

const CLI = path.resolve(__dirname, '../../runner/bin/provium.js');
let dir: string;
let events: RunEvent[];
let stderr: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'provium-vm-'));
  cpSync(path.join(__dirname, 'vm-api'), dir, { recursive: true });
  // Traced (PROVIUM_TRACE_CALLS), as bench:vm runs: the records are checked below.
  const env = { PROVIUM_TRACE_CALLS: path.join(dir, 'calls.jsonl') };
  const r = await execa('node', [CLI, 'test', '-j2', '--json', '--timeout-scale', '3', '.'], { cwd: dir, reject: false, env });
  events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
  stderr = r.stderr;
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('guest operations leave no listeners behind on the test\'s signal (no MaxListenersExceededWarning)', () => {
  expect(events.some((e) => e.event === 'test_passed' && e.test.startsWith('run: exit codes'))).toBe(true);
  expect(stderr).not.toContain('MaxListenersExceeded');
});

it('PROVIUM_TRACE_CALLS records each waiting call, and a vm:run with its way through the client and the agent', () => {
  const records = readFileSync(path.join(dir, 'calls.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  expect(records.some((r) => r.label === 'vm:boot')).toBe(true);
  const run = records.find((r) => r.label === 'vm:run' && r.command === 'echo back');
  const { impl, resolved, resumed, returned } = run.marks;
  const { send, encoded, sent, arrived, decoded, agent } = run.exec;
  const inOrder = [impl, send, encoded, sent, arrived, decoded, resolved, resumed, returned];
  expect(inOrder.every((m) => typeof m === 'number')).toBe(true);
  expect([...inOrder].sort((a, b) => a - b)).toEqual(inOrder);
  expect(Object.keys(agent).sort()).toEqual(['prep_ns', 'reply_ns', 'spawn_ns', 'wait_ns']);
  expect((agent.prep_ns + agent.spawn_ns + agent.wait_ns + agent.reply_ns) / 1e6).toBeLessThan(arrived - encoded);
});

it('a claim bigger than the whole pool fails the file at once with the numbers', async () => {
  const small = mkdtempSync(path.join(tmpdir(), 'provium-vm-'));
  try {
    cpSync(path.join(__dirname, 'vm-api', 'lab.test.lua'), path.join(small, 'big.test.lua'));
    const r = await execa('node', [CLI, 'test', '--json', '--cpu-overcommit', '0.5', '.'], { cwd: small, reject: false });
    const ev = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
    const done = ev.find((e): e is FileCompleted => e.event === 'file_completed');
    expect(done?.status).toBe('error');
    expect(done?.error?.message).toMatch(/claim of big\.test\.lua needs .* and 2 CPUs, more than the whole pool of .* and 1 CPU/);
    expect(ev.some((e) => e.event === 'vm_spawned')).toBe(false);
  } finally {
    rmSync(small, { recursive: true, force: true });
  }
});

const result = (test: string) => events.find((e) => 'test' in e && e.test === test && e.event !== 'test_started');

describe('the VM API on the default guest', () => {
  it.each([
    'run: exit codes, output, argv, env, cwd, stdin, timeout',
    'files are binary-safe',
    'console and clock',
    'argument errors come from the schema',
    'processes and streams',
    "the original's shapes",
    'a call that waits is refused where Lua cannot wait, before it reaches the guest',
    'open files and pushed host files',
    'after death the VM stays dead',
    'the state machine',
    'a lab boots all its VMs on one acquisition',
    'reset reboots the guest and waits for its agent',
    'a guest that powers itself off is shut down, not dead',
    "VMs boot within the file's claim, and one claim per file",
  ])('%s', (name) => {
    const e = result(name);
    expect(e?.event, JSON.stringify(e)).toBe('test_passed');
  });

  it('assert_ok shows the command, status, exit code, stdout and stderr', () => {
    const e = result('a failing command shows what it printed') as TestFailed;
    expect(e.event).toBe('test_failed');
    expect(e.error.message).toMatch(/exit code 7, status exited.*echo to-stdout/);
    expect(e.error.message).toContain('to-stdout');
    expect(e.error.message).toContain('to-stderr');
    expect(e.error.location?.line).toBeGreaterThan(0);
  });

  it('a boot past the claim fails at once, saying what it needs, the claim and what is in use; the VM never starts', () => {
    const e = result("a boot past the file's claim fails at once with the numbers") as TestFailed;
    expect(e.event).toBe('test_failed');
    expect(e.error.message).toContain("needs 32M memory and 1 CPU, but the file's claim is 512M memory and 2 CPUs with");
    expect(e.error.message).toContain('2 CPUs in use; raise provium:claim');
    expect(events.some((x) => x.event === 'vm_spawned' && x.vm === 'l4')).toBe(false);
  });

  it('keeps the console and agent logs of a failed test and names them in the event', () => {
    const e = result('a failing command shows what it printed') as TestFailed;
    const consoleLog = e.artifacts?.['a console log'];
    const agentLog = e.artifacts?.['a agent log'];
    expect(consoleLog).toMatch(/\.provium\/artifacts\/ops\.test\.lua\/a_failing_command_shows_what_it_printed\/a\.console\.log$/);
    expect(readFileSync(consoleLog!, 'utf8')).toContain('provium-agent: ready');
    expect(agentLog).toBeDefined();
    expect(readFileSync(agentLog!, 'utf8').length).toBeGreaterThan(0);
  });

  it('a QEMU that dies mid-test fails that test with the last console lines', () => {
    const e = result('a guest that dies fails the test with the console tail') as TestFailed;
    expect(e.event).toBe('test_failed');
    expect(e.error.message).toMatch(/vm "a" died: QEMU of VM "a" exited \(.*guest-reset\) — last console lines:\n {2}\| /);
    // QEMU and its run dir are gone; the console log was kept for the failure
    const consoleLog = e.artifacts?.['a console log'];
    expect(readFileSync(consoleLog!, 'utf8')).toContain('provium-agent: ready');
    expect(events.find((x) => x.event === 'vm_shutdown' && x.vm === 'a')).toMatchObject({ reason: 'died (guest-reset)' });
  });

  it('kills the VMs of a file that times out', () => {
    const done = events.find((e): e is FileCompleted => e.event === 'file_completed' && e.file === 'timeout.test.lua');
    expect(done?.status).toBe('timed_out');
    expect(events.find((e) => e.event === 'vm_shutdown' && e.vm === 't')).toMatchObject({ reason: 'file ended' });
  });

  it('reports VM lifecycle events and leaves no QEMU behind', () => {
    const spawned = events.filter((e) => e.event === 'vm_spawned');
    expect(spawned.map((e) => 'vm' in e && e.vm).sort()).toEqual(['a', 'l1', 'l2', 't']);
    const reason = (vm: string) => events.find((e) => e.event === 'vm_shutdown' && e.vm === vm);
    expect(reason('l1')).toMatchObject({ reason: 'shutdown' });
    expect(reason('l2')).toMatchObject({ reason: 'guest powered off' });
    for (const e of spawned) {
      if (e.event !== 'vm_spawned') continue;
      expect(() => process.kill(e.pid, 0), `QEMU ${e.pid} of ${e.vm} is gone`).toThrow();
    }
  });
});
