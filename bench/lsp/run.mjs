// Language server benchmark (`npm run bench:lsp`). Drives the real server over stdio, as an editor does:
//  - a generated 4000-line test file: initialize, first diagnostics after didOpen, then completion
//    after `snap:` and hover latency (p50/p95) over a few hundred requests while the file is edited,
//    twice side by side: with incremental changes (a range and its new text) and with full-text
//    changes (`contentChanges: [{ text }]`, what several editors and LSP client libraries send);
//  - a generated 500-file workspace, every file opened: resident memory of the server.
// Targets (issues 5 and 19): completion p95 < 30 ms under either sync with every answer right (all of
// Snapshot's methods after `snap:`), first diagnostics < 500 ms, < 150 MB for 500 files.
// Peer: lua-language-server with the `provium types --luals` stub, measured the same way when it is
// on the PATH (or LUALS=/path/to/lua-language-server); it is packaged neither for Debian 12 nor on npm.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { API } from '@provium/types';
import luaparse from 'luaparse';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const SERVER = path.join(REPO, 'lsp/bin/provium-lsp.js');
const CLI = path.join(REPO, 'runner/bin/provium.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const WORKSPACE_FILES = 500;
const TARGETS = { completionP95: 30, firstDiagnostics: 500, memoryMB: 150 };
/** What a right completion after `snap:` offers: every method of Snapshot. */
const SNAPSHOT_METHODS = API.classes.find((c) => c.name === 'Snapshot').methods.map((m) => m.name);

// ---------------------------------------------------------------------------------------------
// Generated project
// ---------------------------------------------------------------------------------------------

const FIXTURES = {
  'tests/fixtures/base.fixture.lua': 'local vm = provium:vm("base", "default"):boot()\nvm:run("echo ready > /etc/motd")\nreturn vm:snapshot()\n',
  'tests/fixtures/cluster.fixture.lua': 'local a = provium:vm("a", "default")\nlocal b = provium:vm("b", "default")\nprovium:boot()\nreturn provium:snapshot()\n',
  'tests/helpers/net.lua': 'local M = {}\n\nfunction M.pair(lab)\n  return lab:vm("p", "default")\nend\n\nreturn M\n',
};

const HEADER = [
  'local net = require("helpers.net")',
  'local cluster = provium:lab_fixture("fixtures/cluster")',
  'local base = provium:vm_fixture("fixtures/base")',
  'local vm = provium:vm("main", "default"):boot()',
  '',
];

/** One test of 20 lines using a good part of the API. */
function testBlock(i) {
  return [
    `test("case ${i}", { tags = { "net" }, timeout = "30s" }, function(t)`,
    '  local snap = vm:snapshot()',
    `  local r = vm:run("echo ${i}", { timeout = "5s" })`,
    '  t:assert_eq(r.exit_code, 0)',
    `  t:assert_contains(r.stdout, "${i}")`,
    '  local st = vm:stat("/etc/motd")',
    '  if st.size > 0 then',
    `    vm:write_file("/tmp/f${i}", "x")`,
    '  end',
    '  for _, e in ipairs(vm:listdir("/")) do',
    '    t:log(e.name)',
    '  end',
    '  cluster.a:run("ping -c 1 b")',
    '  local p = net.pair(provium)',
    '  base:run("true")',
    '  t:log(snap:size())',
    '  local n = r.stdout:match("%d+")',
    '  t:assert(n ~= nil)',
    'end)',
    '',
  ];
}

function bigTestFile(lines) {
  const out = [...HEADER];
  for (let i = 0; out.length + 20 < lines; i++) out.push(...testBlock(i));
  while (out.length < lines - 1) out.push('-- generated');
  return out.concat(['']).join('\n');
}

function writeProject(dir, files) {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
}

// ---------------------------------------------------------------------------------------------
// A minimal LSP client
// ---------------------------------------------------------------------------------------------

class Client {
  static async start(cmd, args, rootDir, initializationOptions) {
    const t0 = performance.now();
    const proc = spawn(cmd, args, { cwd: rootDir, stdio: ['pipe', 'pipe', 'ignore'] });
    const rpc = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
    const c = new Client(proc, rpc);
    rpc.listen();
    const rootUri = pathToFileURL(rootDir).href;
    c.initializeResult = await rpc.sendRequest('initialize', {
      processId: process.pid,
      rootUri,
      workspaceFolders: [{ uri: rootUri, name: 'bench' }],
      capabilities: { textDocument: { publishDiagnostics: {}, completion: { completionItem: { snippetSupport: false } } } },
      initializationOptions,
    });
    c.startupMs = performance.now() - t0;
    await rpc.sendNotification('initialized', {});
    return c;
  }

  constructor(proc, rpc) {
    this.proc = proc;
    this.rpc = rpc;
    this.waiters = [];
    this.versions = new Map();
    rpc.onNotification('textDocument/publishDiagnostics', (p) => {
      this.waiters = this.waiters.filter((w) => (w.uri === p.uri ? (w.done(p), false) : true));
    });
    rpc.onNotification(() => undefined);
    rpc.onRequest(() => null);
  }

  nextDiagnostics(uri) {
    return new Promise((done) => this.waiters.push({ uri, done }));
  }

  open(uri, text) {
    this.versions.set(uri, 1);
    return this.rpc.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'lua', version: 1, text } });
  }

  change(uri, range, text) {
    return this.changeWith(uri, { range, text });
  }

  /** A full-text change: the whole new text, no range. */
  replace(uri, text) {
    return this.changeWith(uri, { text });
  }

  changeWith(uri, change) {
    const version = this.versions.get(uri) + 1;
    this.versions.set(uri, version);
    return this.rpc.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [change] });
  }

  request(method, params) {
    return this.rpc.sendRequest(method, params);
  }

  /** Resident set size of the server process, from /proc (MB). */
  rssMB() {
    const status = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    const kb = (key) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  }

  async stop() {
    const exited = new Promise((r) => this.proc.once('exit', r));
    try {
      await Promise.race([this.rpc.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 5000))]);
      await this.rpc.sendNotification('exit');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.rpc.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x) => `${x.toFixed(1)} ms`;

/** Line/character of the first `needle` at or after line `fromLine`. */
function find(lines, needle, fromLine = 0) {
  for (let l = fromLine; l < lines.length; l++) {
    const c = lines[l].indexOf(needle);
    if (c >= 0) return { line: l, character: c };
  }
  throw new Error(`${needle} not found`);
}

/**
 * The 4000-line file: open it, wait for its diagnostics, then ROUNDS times: type `snap:` on a new line
 * in some test, ask for completion there, delete the typed line, and hover a method of another test.
 * `sync` is how the edits are sent: 'incremental' (the range and its new text) or 'full' (the whole
 * new text, as a client without incremental sync does). Returns the timings.
 */
async function editSession(server, dir, text, uri, sync) {
  const c = await Client.start(server.cmd, server.args, dir, server.initializationOptions);
  try {
    const first = c.nextDiagnostics(uri);
    const t0 = performance.now();
    await c.open(uri, text);
    const diags = await first;
    const firstDiagnosticsMs = performance.now() - t0;
    const lines = text.split('\n');
    const tests = [];
    for (let l = 0; l < lines.length; l++) if (lines[l].startsWith('test(')) tests.push(l);
    const completion = [];
    const hover = [];
    let wrong = 0;
    let seed = 7;
    const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < ROUNDS; i++) {
      const at = tests[rand(tests.length)];
      const snapLine = find(lines, 'local snap = vm:snapshot()', at).line + 1;
      const insert = { line: snapLine, character: 0 };
      if (sync === 'full') await c.replace(uri, [...lines.slice(0, snapLine), '  snap:', ...lines.slice(snapLine)].join('\n'));
      else await c.change(uri, { start: insert, end: insert }, '  snap:\n');
      let t = performance.now();
      const items = await c.request('textDocument/completion', { textDocument: { uri }, position: { line: snapLine, character: 7 } });
      completion.push(performance.now() - t);
      const labels = (Array.isArray(items) ? items : (items?.items ?? [])).map((x) => x.label);
      if (!SNAPSHOT_METHODS.every((m) => labels.includes(m))) wrong++;
      if (sync === 'full') await c.replace(uri, text);
      else await c.change(uri, { start: insert, end: { line: snapLine + 1, character: 0 } }, '');
      const other = tests[rand(tests.length)];
      const run = find(lines, 'vm:run(', other);
      t = performance.now();
      await c.request('textDocument/hover', { textDocument: { uri }, position: { line: run.line, character: run.character + 4 } });
      hover.push(performance.now() - t);
    }
    return {
      startupMs: c.startupMs,
      firstDiagnosticsMs,
      firstDiagnosticsCount: diags.diagnostics.length,
      completion,
      hover,
      wrong,
      rssAfterEdits: c.rssMB(),
      sync,
    };
  } finally {
    await c.stop();
  }
}

/**
 * A 500-file workspace (450 test files of ~100 lines, 25 fixtures, 25 helpers). An editor session first:
 * SESSION_FILES files open (the fixtures they resume and the helpers they require are read and analysed
 * too); then the stress case, every file open at once. Resident memory of the server after each.
 */
const SESSION_FILES = 20;
async function workspaceMemory(server, dir) {
  const files = { 'provium.toml': '[provium]\nroots = ["tests"]\n', ...FIXTURES };
  for (let k = 0; k < 25; k++) {
    files[`tests/fixtures/f${k}.fixture.lua`] = `local vm = provium:vm_fixture("fixtures/base")\nvm:run("echo ${k}")\nreturn vm:snapshot()\n`;
    files[`tests/helpers/h${k}.lua`] = `local M = {}\nfunction M.boot(lab)\n  return lab:vm("h${k}", "default"):boot()\nend\nreturn M\n`;
  }
  const small = (k) => [
    `local h = require("helpers.h${k % 25}")`,
    `local fx = provium:vm_fixture("fixtures/f${k % 25}")`,
    ...HEADER,
    ...Array.from({ length: 5 }, (_, i) => testBlock(k * 10 + i)).flat(),
  ].join('\n');
  const names = Object.keys(files).filter((rel) => rel.endsWith('.lua'));
  for (let k = 0; names.length < WORKSPACE_FILES; k++) {
    const rel = `tests/suite${Math.floor(k / 50)}/t${k}.test.lua`;
    files[rel] = small(k);
    names.push(rel);
  }
  writeProject(dir, files);
  const tests = names.filter((rel) => rel.endsWith('.test.lua'));
  const c = await Client.start(server.cmd, server.args, dir, server.initializationOptions);
  const open = async (rels) => {
    for (const rel of rels) {
      const uri = pathToFileURL(path.join(dir, rel)).href;
      const d = c.nextDiagnostics(uri);
      await c.open(uri, files[rel]);
      await d;
    }
  };
  try {
    await open(tests.slice(0, SESSION_FILES));
    const session = c.rssMB();
    const t0 = performance.now();
    const rest = names.filter((rel) => !tests.slice(0, SESSION_FILES).includes(rel));
    await open(rest);
    const openRestMs = performance.now() - t0;
    const all = c.rssMB();
    return { files: names.length, lines: names.reduce((n, rel) => n + files[rel].split('\n').length, 0), session, all, openRestMs, restCount: rest.length };
  } finally {
    await c.stop();
  }
}

// ---------------------------------------------------------------------------------------------

function findLuals() {
  const candidates = [process.env.LUALS, 'lua-language-server'].filter(Boolean);
  for (const bin of candidates) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return bin;
  }
  return undefined;
}

const ok = (good) => (good ? 'ok' : 'MISSED');
const row = (label, value, target) => console.log(`  ${label.padEnd(44)} ${value.padStart(12)}${target ? `   target ${target}` : ''}`);

/** `sessions`: the edit session with incremental changes and the one with full-text changes. */
function report(name, sessions, w) {
  console.log(`\n${name}`);
  const first = sessions[0];
  row('initialize (spawn to reply)', ms(first.startupMs));
  row('first diagnostics (didOpen to publish)', ms(first.firstDiagnosticsMs), `< ${TARGETS.firstDiagnostics} ms: ${ok(first.firstDiagnosticsMs < TARGETS.firstDiagnostics)}`);
  for (const s of sessions) {
    const p95 = pct(s.completion, 95);
    console.log(`  -- ${s.sync === 'full' ? 'full-text changes (contentChanges: [{ text }])' : 'incremental changes (range + text)'}`);
    row('completion after snap: p50', ms(pct(s.completion, 50)));
    // A fast wrong answer is no answer: the verdict needs every completion right as well.
    row('completion after snap: p95', ms(p95), `< ${TARGETS.completionP95} ms, every answer right: ${ok(p95 < TARGETS.completionP95 && s.wrong === 0)}`);
    row('completion max', ms(Math.max(...s.completion)));
    row('hover p50 / p95', `${ms(pct(s.hover, 50))} / ${ms(pct(s.hover, 95))}`);
    row('completions missing a Snapshot method', `${s.wrong} / ${s.completion.length}`);
    row('memory after the edits (RSS)', `${s.rssAfterEdits.rss.toFixed(0)} MB`);
  }
  if (w) {
    console.log('  -- workspace');
    row(`${w.files}-file workspace, ${SESSION_FILES} files open (RSS)`, `${w.session.rss.toFixed(0)} MB`, `< ${TARGETS.memoryMB} MB: ${ok(w.session.rss < TARGETS.memoryMB)}`);
    row(`all ${w.files} files open (RSS)`, `${w.all.rss.toFixed(0)} MB`, `< ${TARGETS.memoryMB} MB: ${ok(w.all.rss < TARGETS.memoryMB)}`);
    row('  peak RSS', `${w.all.peak.toFixed(0)} MB`);
    row(`  opening the other ${w.restCount} files`, ms(w.openRestMs));
    row('  workspace size', `${w.lines} lines`);
  }
}

/** Both edit sessions of a server, one after the other (each in a fresh server process). */
async function editSessions(server, dir, text, uri) {
  return [await editSession(server, dir, text, uri, 'incremental'), await editSession(server, dir, text, uri, 'full')];
}

const root = mkdtempSync(path.join(tmpdir(), 'provium-bench-lsp-'));
try {
  const big = bigTestFile(4000);
  const bigDir = path.join(root, 'big');
  writeProject(bigDir, { 'provium.toml': '[provium]\nroots = ["tests"]\n', ...FIXTURES, 'tests/big.test.lua': big });
  const bigUri = pathToFileURL(path.join(bigDir, 'tests/big.test.lua')).href;

  // The naive way, for scale: one full luaparse parse of the file (what every keystroke would cost).
  const parses = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    luaparse.parse(big, { luaVersion: '5.3', ranges: true, comments: false });
    parses.push(performance.now() - t);
  }

  // BENCH_NODE_FLAGS: Node/V8 flags for the server process (e.g. --max-semi-space-size=1), for experiments.
  const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const ours = { cmd: process.execPath, args: [...nodeFlags, SERVER, '--stdio'], initializationOptions: {} };
  const s = await editSessions(ours, bigDir, big, bigUri);
  const w = await workspaceMemory(ours, path.join(root, 'ws'));

  console.log(`Provium language server benchmark — ${big.split('\n').length}-line test file, ${ROUNDS} edit + completion + hover rounds`);
  console.log(`(a full luaparse parse of that file: median ${ms(pct(parses, 50))}; the server re-parses only the edited top-level statement)`);
  const [inc, full] = s;
  console.log(`completion p95, full-text vs incremental changes: ${ms(pct(full.completion, 95))} vs ${ms(pct(inc.completion, 95))}`);
  report(`provium-lsp${nodeFlags.length ? ` (node ${nodeFlags.join(' ')})` : ''}`, s, w);

  const luals = findLuals();
  if (luals) {
    // The peer: a general Lua server that knows the API only from the generated LuaCATS stub.
    const stub = path.join(bigDir, 'provium.meta.lua');
    writeFileSync(stub, spawnSync(process.execPath, [CLI, 'types', '--luals'], { encoding: 'utf8' }).stdout);
    writeFileSync(path.join(bigDir, '.luarc.json'), JSON.stringify({ 'runtime.version': 'Lua 5.3', 'workspace.library': [stub] }));
    const peer = await editSessions({ cmd: luals, args: [], initializationOptions: {} }, bigDir, big, bigUri);
    const peerW = await workspaceMemory({ cmd: luals, args: [], initializationOptions: {} }, path.join(root, 'ws-luals'));
    report(`lua-language-server (${luals}) with the provium types --luals stub`, peer, peerW);
    for (const k of [0, 1]) console.log(`\ncompletion p95 (${s[k].sync}): provium-lsp ${ms(pct(s[k].completion, 95))} vs lua-language-server ${ms(pct(peer[k].completion, 95))}`);
  } else {
    console.log('\npeer: lua-language-server (the alternative the issue names, with the `provium types --luals` stub) is not measured:');
    console.log('  it is packaged neither for Debian 12 nor on npm, and this machine reaches no other source. Put it on the PATH');
    console.log('  (or set LUALS=/path/to/lua-language-server) and this benchmark measures it the same way.');
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
