/** `--watch`, `--events-stdout` and `--events-socket`: output while the run goes on. */
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@provium/types';
import { CLI, project, provium } from './helpers.js';

/** Starts provium; `text()` is what it has printed so far on stdout and stderr. */
function start(cwd: string, ...args: string[]) {
  const child = execa('node', [CLI, ...args], { cwd, reject: false, env: { NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let exited = false;
  void child.then(() => (exited = true));
  return { child, out: () => out, err: () => err, exited: () => exited };
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('--watch', () => {
  it('runs again when a test file changes or one is added, until Ctrl-C', async () => {
    const dir = project({ 'tests/a.test.lua': 'test("a", function(t) end)\n' });
    const run = start(dir, '--watch', '-q');
    await expect.poll(() => run.err(), { timeout: 30_000 }).toContain('waiting for changes');
    expect(run.out()).toContain('1 passed, 0 failed, 0 skipped');

    writeFileSync(path.join(dir, 'tests/a.test.lua'), 'test("a", function(t) t:fail("now it fails") end)\n');
    await expect.poll(() => run.out(), { timeout: 30_000 }).toContain('0 passed, 1 failed, 0 skipped');
    await expect.poll(() => count(run.err(), 'waiting for changes'), { timeout: 30_000 }).toBe(2);

    writeFileSync(path.join(dir, 'tests/b.test.lua'), 'test("b", function(t) end)\n');
    await expect.poll(() => run.out(), { timeout: 30_000 }).toContain('1 passed, 1 failed, 0 skipped');
    await expect.poll(() => count(run.err(), 'waiting for changes'), { timeout: 30_000 }).toBe(3);
    expect(count(run.err(), 'a change: running again')).toBe(2);

    run.child.kill('SIGINT');
    const done = await run.child;
    expect(done.exitCode).toBe(130);
    expect(run.err()).toContain('interrupted: stopping the watch');
    expect(run.err()).not.toMatch(/internal error/);
  }, 120_000);

  it('refuses --keep-on-failure, which also waits for Ctrl-C', async () => {
    const r = await provium(project({ 'tests/a.test.lua': 'test("a", function(t) end)\n' }), '--watch', '--keep-on-failure');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--keep-on-failure holds the failed VMs until Ctrl-C, and Ctrl-C ends --watch');
  });
});

describe('--events-stdout', () => {
  it('puts the event lines on stdout and the human report on stderr; not with --json', async () => {
    const dir = project({ 'tests/a.test.lua': 'test("a", function(t) print("to the log") end)\n' });
    const r = await provium(dir, '--events-stdout');
    expect(r.code).toBe(0);
    const evs = r.stdout.split('\n').map((l) => JSON.parse(l) as RunEvent);
    expect(evs.map((e) => e.event)).toEqual(['run_started', 'file_started', 'test_started', 'test_passed', 'file_completed', 'run_completed']);
    expect(r.stderr).toMatch(/^PASS tests\/a\.test\.lua/m);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('1 passed, 0 failed, 0 skipped');
    const both = await provium(dir, '--events-stdout', '--json');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("option '--json' cannot be used with option '--events-stdout'");
  });
});

describe('--events-socket PATH', () => {
  it('streams the events live to every connected client and removes the socket at the end', async () => {
    const dir = project({});
    const mark = (name: string) => path.join(dir, name);
    // Each test waits for a marker the clients create once they have seen what came before.
    writeFileSync(
      path.join(dir, 'tests.test.lua'),
      `test("one", function(t) assert(os.execute("until [ -e '${mark('m1')}' ]; do sleep 0.02; done")) end)
test("two", function(t) assert(os.execute("until [ -e '${mark('m2')}' ]; do sleep 0.02; done")) end)
`,
    );
    const socket = path.join(dir, 'events.sock');
    const run = start(dir, 'test', '--events-socket', socket, '-q', '.');
    await expect.poll(() => existsSync(socket), { timeout: 30_000 }).toBe(true); // there once it accepts connections
    const clients = [0, 1].map(() => {
      const c = net.connect(socket);
      const got = { lines: [] as RunEvent[], ended: false, buf: '', error: undefined as Error | undefined };
      c.on('error', (e) => (got.error = e));
      c.on('data', (d: Buffer) => {
        got.buf += d.toString();
        const parts = got.buf.split('\n');
        got.buf = parts.pop()!;
        got.lines.push(...parts.map((l) => JSON.parse(l) as RunEvent));
      });
      c.on('end', () => (got.ended = true));
      return got;
    });
    const passed = (g: (typeof clients)[0], test: string) => g.lines.some((e) => e.event === 'test_passed' && e.test === test);

    writeFileSync(mark('m1'), '');
    for (const c of clients) await expect.poll(() => passed(c, 'one'), { timeout: 30_000 }).toBe(true);
    expect(run.exited()).toBe(false); // live: test "two" still waits
    expect(clients.every((c) => !passed(c, 'two'))).toBe(true);

    writeFileSync(mark('m2'), '');
    const done = await run.child;
    expect(done.exitCode).toBe(0);
    for (const c of clients) {
      await expect.poll(() => c.ended || c.error !== undefined, { timeout: 10_000 }).toBe(true);
      expect(c.error).toBeUndefined();
      expect(c.lines.at(-1)).toMatchObject({ event: 'run_completed', passed: 2, exit_code: 0 });
      expect(passed(c, 'two')).toBe(true);
    }
    expect(existsSync(socket)).toBe(false);
    expect(run.out().trimEnd().split('\n').at(-1)).toBe('2 passed, 0 failed, 0 skipped'); // the human report as usual
  }, 60_000);

  it('refuses a path that is not a socket, and one another program listens on', async () => {
    const dir = project({ 'tests/a.test.lua': 'test("a", function(t) end)\n', 'plain.txt': 'x' });
    const plain = await provium(dir, '--events-socket', 'plain.txt');
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/--events-socket plain\.txt: .*plain\.txt exists and is not a socket/);
    const busy = net.createServer().listen(path.join(dir, 'busy.sock'));
    await new Promise((r) => busy.once('listening', r));
    try {
      const r = await provium(dir, '--events-socket', 'busy.sock');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('another program listens on');
    } finally {
      busy.close();
    }
    const nodir = await provium(dir, '--events-socket', 'no/such/dir.sock');
    expect(nodir.code).toBe(2);
    expect(nodir.stderr).toMatch(/--events-socket no\/such\/dir\.sock: the directory .*no\/such does not exist/);
  });
});
