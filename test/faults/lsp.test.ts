// Faults the language server must survive, over the real server process (stdio):
// a document of several megabytes does not hold up the others, and a message
// header without Content-Length gets a parse error instead of silencing it.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, expect, test } from 'vitest';
import { LspTestClient, makeProject, positionOf, SERVER_BIN } from '../lsp/helpers/lsp-client.js';
import { SAMPLE_FILES } from '../lsp/helpers/sample-project.js';

const project = makeProject(SAMPLE_FILES);
afterAll(() => project.cleanup());

const SMALL = 'local vm = provium:vm("a", "default")\nlocal r = vm:run("ls")\n';

const hoverText = (h: { contents: unknown } | null) => (h && typeof h.contents === 'object' && h.contents && 'value' in h.contents ? String(h.contents.value) : '');

/** About 3 MB: `n` tests, the last of which calls a method VM does not have. */
function bigFile(n: number): string {
  const out = ['local vm = provium:vm("main", "default"):boot()', ''];
  for (let i = 0; i < n; i++) {
    out.push(`test("case ${i}", function(t)`, `  local r = vm:run("echo ${i}", { timeout = "5s" })`, '  t:assert_eq(r.exit_code, 0)', `  t:log(r.stdout)`, 'end)', '');
  }
  out.push('test("last", function(t)', '  vm:rn("x")', 'end)', '');
  return out.join('\n');
}

test('a request on a small document is answered while a document of several megabytes is still being analysed', async () => {
  const c = await LspTestClient.start(project.dir);
  try {
    const n = 20_000;
    const big = bigFile(n);
    expect(big.length).toBeGreaterThan(2_500_000);
    const bigUri = project.uri('tests/big.test.lua');
    const smallUri = project.uri('tests/small.test.lua');
    const events: string[] = [];
    const bigDiagnostics = c.diagnosticsFor(bigUri).then((d) => {
      events.push('big analysed');
      return d;
    });
    await c.openDocument(bigUri, big);
    await c.openDocument(smallUri, SMALL);
    const hover = c.hover(smallUri, positionOf(SMALL, 'local r', 6)).then((h) => {
      events.push('small answered');
      return h;
    });
    // A request on the big document waits for its analysis and is answered from it.
    const symbols = c.documentSymbols(bigUri);
    expect(hoverText(await hover)).toContain('local r: RunResult');
    const diags = await bigDiagnostics;
    expect(events).toEqual(['small answered', 'big analysed']);
    expect(diags.map((d) => [d.range.start.line, d.message])).toEqual([[6 * n + 3, "VM has no method 'rn': did you mean 'run'?"]]);
    expect((await symbols).filter((s) => s.detail === 'test')).toHaveLength(n + 1);
  } finally {
    await c.shutdown();
  }
});

/** The server over stdio without a JSON-RPC library on this side: raw bytes out, framed messages in. */
class RawServer {
  readonly received: Record<string, unknown>[] = [];
  private buffer = Buffer.alloc(0);
  private waiters: { test: (m: Record<string, unknown>) => boolean; done: (m: Record<string, unknown>) => void }[] = [];
  readonly proc: ChildProcess;

  constructor() {
    this.proc = spawn(process.execPath, [SERVER_BIN, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc.stdout!.on('data', (d: Buffer) => this.onData(d));
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString('ascii'))![1]);
      if (this.buffer.length < end + 4 + length) return;
      const msg = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8')) as Record<string, unknown>;
      this.buffer = this.buffer.subarray(end + 4 + length);
      this.received.push(msg);
      this.waiters = this.waiters.filter((w) => !(w.test(msg) && (w.done(msg), true)));
    }
  }

  sendRaw(text: string): void {
    this.proc.stdin!.write(text);
  }

  send(msg: Record<string, unknown>): void {
    const body = JSON.stringify({ jsonrpc: '2.0', ...msg });
    this.sendRaw(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  /** The first message (already received or to come) that passes `test`. */
  message(test: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const seen = this.received.find(test);
    return seen ? Promise.resolve(seen) : new Promise((done) => this.waiters.push({ test, done }));
  }

  response(id: number): Promise<Record<string, unknown>> {
    return this.message((m) => m.id === id);
  }
}

test('a header without Content-Length gets a JSON-RPC parse error, and the next message is read and answered', async () => {
  const s = new RawServer();
  try {
    const uri = project.uri('tests/header.test.lua');
    const hover = (id: number) => ({ id, method: 'textDocument/hover', params: { textDocument: { uri }, position: positionOf(SMALL, 'local r', 6) } });
    s.send({ id: 1, method: 'initialize', params: { processId: process.pid, rootUri: project.uri(''), capabilities: {}, initializationOptions: { diagnosticsDelay: 0 } } });
    expect(await s.response(1)).toHaveProperty('result.serverInfo.name', 'provium-lsp');
    s.send({ method: 'initialized', params: {} });
    s.send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'lua', version: 1, text: SMALL } } });
    const bad = [
      // No Content-Length at all (a body follows that cannot be delimited).
      `Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n${JSON.stringify({ jsonrpc: '2.0', ...hover(2) })}`,
      // A header line without a colon.
      'Content-Length 12\r\n\r\n',
      // A length that is not a number.
      'Content-Length: twelve\r\n\r\n{"jsonrpc":"2.0"}',
    ];
    let id = 10;
    for (const block of bad) {
      const before = s.received.length;
      s.sendRaw(block);
      s.send(hover(++id));
      const answer = await s.response(id);
      expect(hoverText(answer.result as { contents: unknown })).toContain('local r: RunResult');
      const errors = s.received.slice(before).filter((m) => m.error);
      expect(errors).toEqual([{ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringMatching(/^Parse error: .*Content-Length/) } }]);
    }
    expect(s.received.some((m) => m.id === 2)).toBe(false);
    s.send({ id: 99, method: 'shutdown' });
    await s.response(99);
    const exited = new Promise<number | null>((r) => s.proc.once('exit', r));
    s.send({ method: 'exit' });
    expect(await exited).toBe(0);
  } finally {
    if (s.proc.exitCode === null) s.proc.kill();
  }
}, 20_000);

test('the editor closing its end of stdin stops the server', async () => {
  const s = new RawServer();
  const exited = new Promise<number | null>((r) => s.proc.once('exit', r));
  s.proc.stdin!.end();
  expect(await exited).toBe(1);
});
