// The VS Code extension (packages/vscode) builds into a .vsix with @vscode/vsce, offline, and the .vsix
// holds what VS Code needs: the manifest that activates it in a workspace with provium.toml, the
// extension bundle (vscode-languageclient inside) and a bundled server that works on its own.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { API } from '@provium/types';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cursor, LspTestClient, makeProject, REPO } from './helpers/lsp-client.js';
import { SAMPLE_FILES } from './helpers/sample-project.js';
import { readZip } from './helpers/zip.js';

const PKG = join(REPO, 'packages/vscode');
const out = mkdtempSync(join(tmpdir(), 'provium-vsix-'));
let entries: Map<string, Buffer>;

beforeAll(() => {
  // `vsce package` runs the vscode:prepublish script (typecheck + esbuild bundles), then zips; no network.
  const vsce = join(dirname(createRequire(import.meta.url).resolve('@vscode/vsce/package.json')), 'vsce');
  const vsix = join(out, 'provium.vsix');
  execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', vsix], { cwd: PKG, stdio: 'pipe' });
  entries = readZip(readFileSync(vsix));
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

const text = (name: string) => entries.get(name)!.toString('utf8');

test('the .vsix holds the manifest, the readme and the two bundles, nothing else (no sources, no node_modules)', () => {
  expect([...entries.keys()].sort()).toEqual([
    '[Content_Types].xml',
    'extension.vsixmanifest',
    'extension/dist/extension.js',
    'extension/dist/server.js',
    'extension/package.json',
    'extension/readme.md',
  ]);
  expect(text('extension.vsixmanifest')).toMatch(/<Identity Language="en-US" Id="provium-vscode" Version="0.1.0" Publisher="provium"/);
});

test('the manifest starts the extension in a workspace with provium.toml; the client is pinned', () => {
  const manifest = JSON.parse(text('extension/package.json'));
  expect(manifest.activationEvents).toEqual(['workspaceContains:**/provium.toml']);
  expect(manifest.main).toBe('./dist/extension.js');
  expect(manifest.engines.vscode).toBe('^1.82.0');
  expect(manifest.dependencies['vscode-languageclient']).toMatch(/^\d+\.\d+\.\d+$/);
  expect(manifest.devDependencies['@vscode/vsce']).toMatch(/^\d+\.\d+\.\d+$/);
  expect(Object.keys(manifest.contributes.configuration.properties).sort()).toEqual(['provium.cliPath', 'provium.server.command', 'provium.trace.server']);
  expect(manifest.contributes.commands.map((c: { command: string }) => c.command)).toEqual(['provium.restartServer']);
});

test('the extension bundle loads with only `vscode` from outside and exports activate/deactivate', () => {
  const dir = join(out, 'load');
  mkdirSync(join(dir, 'dist'), { recursive: true });
  const file = join(dir, 'dist/extension.js');
  writeFileSync(file, entries.get('extension/dist/extension.js')!);
  const source = text('extension/dist/extension.js');
  expect(source).toContain('require("vscode")');
  expect(source).not.toMatch(/require\("vscode-languageclient/);
  expect(source).toContain('**/*.lua');
  // A stand-in for the editor's `vscode` module: loading must not need anything else.
  const fake: unknown = new Proxy(function () {}, {
    get: (_t, k) => (k === '__esModule' || k === 'then' ? undefined : fake),
    apply: () => fake,
    construct: () => fake as object,
  });
  const ext = loadWith(file, { vscode: fake });
  expect(typeof ext.activate).toBe('function');
  expect(typeof ext.deactivate).toBe('function');
});

/** Requires `file` afresh with the modules in `stubs` (by request) given instead of loaded. */
function loadWith(file: string, stubs: Record<string, unknown>): Record<string, unknown> {
  const req = createRequire(file);
  const Module = req('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = Module._load;
  Module._load = function (request: string, ...rest: unknown[]) {
    return request in stubs ? stubs[request] : load.call(this, request, ...rest);
  };
  try {
    delete req.cache[file];
    return req(file) as Record<string, unknown>;
  } finally {
    Module._load = load;
  }
}

interface FakeClient { id: string; name: string; server: Record<string, unknown>; client: { initializationOptions: unknown; documentSelector: unknown; synchronize: unknown }; running: boolean }
type Listener = (e?: unknown) => unknown;

/**
 * The extension's own code (src/extension.ts, bundled here with vscode-languageclient left out)
 * against stand-ins: `vscode` with settings, workspace trust and commands the test sets and fires,
 * and a LanguageClient that records how it was made and whether it runs.
 */
async function extensionHost(opts: { trusted: boolean; settings: Record<string, unknown> }) {
  const file = join(out, 'host/dist/extension.js');
  await build({ entryPoints: [join(PKG, 'src/extension.ts')], outfile: file, bundle: true, platform: 'node', format: 'cjs', external: ['vscode', 'vscode-languageclient/node'], logLevel: 'silent' });
  const state = { ...opts, clients: [] as FakeClient[], status: [] as string[], onConfig: [] as Listener[], onTrust: [] as Listener[] };
  const commands = new Map<string, (...args: unknown[]) => unknown>();
  const disposable = { dispose() {} };
  const vscode = {
    commands: {
      registerCommand: (id: string, run: (...args: unknown[]) => unknown) => (commands.set(id, run), disposable),
      executeCommand: async (id: string, ...args: unknown[]) => commands.get(id)!(...args),
    },
    window: { setStatusBarMessage: (text: string) => (state.status.push(text), disposable) },
    workspace: {
      get isTrusted() { return state.trusted; },
      workspaceFolders: [{ uri: { fsPath: '/work/project' } }],
      getConfiguration: (section: string) => ({ get: (key: string, dflt: unknown) => state.settings[`${section}.${key}`] ?? dflt }),
      createFileSystemWatcher: (glob: string) => ({ watches: glob }),
      onDidChangeConfiguration: (l: Listener) => (state.onConfig.push(l), disposable),
      onDidGrantWorkspaceTrust: (l: Listener) => (state.onTrust.push(l), disposable),
    },
  };
  class LanguageClient implements FakeClient {
    running = false;
    constructor(readonly id: string, readonly name: string, readonly server: FakeClient['server'], readonly client: FakeClient['client']) {
      state.clients.push(this);
    }
    async start() { this.running = true; }
    async stop() { this.running = false; }
  }
  const ext = loadWith(file, { vscode, 'vscode-languageclient/node': { LanguageClient, TransportKind: { stdio: 0, ipc: 1, pipe: 2, socket: 3 } } });
  const context = { subscriptions: [] as unknown[], asAbsolutePath: (rel: string) => join('/ext', rel) };
  return {
    state,
    context,
    activate: () => (ext.activate as (c: unknown) => Promise<void>)(context),
    deactivate: () => (ext.deactivate as () => Promise<void>)(),
    /** Fires a configuration change that affects the settings named. */
    changeSettings: (changed: Record<string, unknown>) => {
      Object.assign(state.settings, changed);
      return Promise.all(state.onConfig.map((l) => l({ affectsConfiguration: (key: string) => key in changed })));
    },
    grantTrust: () => {
      state.trusted = true;
      return Promise.all(state.onTrust.map((l) => l()));
    },
  };
}

const BUNDLED = { run: { module: '/ext/dist/server.js', transport: 0 }, debug: { module: '/ext/dist/server.js', transport: 0, options: { execArgv: ['--nolazy', '--inspect=6019'] } } };
const CUSTOM = { 'provium.server.command': ['npx', 'provium', 'lsp', '--stdio'], 'provium.cliPath': '/opt/provium/bin/provium' };

test('activate starts the bundled server for the *.lua files of a trusted workspace, runs allowed; deactivate stops it', async () => {
  const host = await extensionHost({ trusted: true, settings: {} });
  await host.activate();
  const [c] = host.state.clients;
  expect({ id: c.id, name: c.name, running: c.running, server: c.server }).toEqual({ id: 'provium', name: 'Provium', running: true, server: BUNDLED });
  expect(c.client).toMatchObject({
    documentSelector: [{ scheme: 'file', pattern: '**/*.lua' }],
    synchronize: { fileEvents: { watches: '**/{*.lua,provium.toml}' } },
    initializationOptions: { allowRun: true },
  });
  expect(host.context.subscriptions).toHaveLength(3);
  await host.deactivate();
  expect(c.running).toBe(false);
});

test('settings: provium.server.command starts that server and provium.cliPath runs tests; changing either restarts, other settings do not', async () => {
  const host = await extensionHost({ trusted: true, settings: { ...CUSTOM } });
  await host.activate();
  const [first] = host.state.clients;
  expect(first.server).toEqual({ command: 'npx', args: ['provium', 'lsp', '--stdio'], transport: 0, options: { cwd: '/work/project' } });
  expect(first.client.initializationOptions).toEqual({ allowRun: true, cliPath: '/opt/provium/bin/provium' });
  await host.changeSettings({ 'editor.fontSize': 14 });
  expect(host.state.clients).toHaveLength(1);
  await host.changeSettings({ 'provium.cliPath': '/usr/local/bin/provium' });
  const [, second] = host.state.clients;
  expect([first.running, second.running]).toEqual([false, true]);
  expect(second.client.initializationOptions).toEqual({ allowRun: true, cliPath: '/usr/local/bin/provium' });
  expect(host.state.status).toEqual(['Provium language server restarted']);
  await host.changeSettings({ 'provium.server.command': [] });
  expect(host.state.clients.map((c) => [c.running, c.server])).toEqual([[false, first.server], [false, first.server], [true, BUNDLED]]);
  await host.deactivate();
});

test('restricted mode: the bundled server, the settings ignored, runs off; granting trust restarts with the settings', async () => {
  const host = await extensionHost({ trusted: false, settings: { ...CUSTOM } });
  await host.activate();
  const [restricted] = host.state.clients;
  expect(restricted.server).toEqual(BUNDLED);
  expect(restricted.client.initializationOptions).toEqual({ allowRun: false });
  await host.grantTrust();
  const [, trusted] = host.state.clients;
  expect([restricted.running, trusted.running]).toEqual([false, true]);
  expect(trusted.server).toMatchObject({ command: 'npx' });
  expect(trusted.client.initializationOptions).toEqual({ allowRun: true, cliPath: '/opt/provium/bin/provium' });
  await host.deactivate();
});

test('the bundled server works on its own: diagnostics and completion after snap:', async () => {
  const server = join(out, 'server.js');
  writeFileSync(server, entries.get('extension/dist/server.js')!);
  const project = makeProject(SAMPLE_FILES);
  const c = await LspTestClient.start(project.dir, { diagnosticsDelay: 0 }, {}, [server, '--stdio']);
  try {
    const { text: src, pos } = cursor('local vm = provium:vm("a", "default")\nlocal snap = vm:snapshot()\nvm:rn("ls")\nsnap:|');
    const uri = await c.openDocument(project.uri('tests/bundle.test.lua'), src);
    expect((await c.currentDiagnostics(uri)).map((d) => d.message)).toContain("VM has no method 'rn': did you mean 'run'?");
    const labels = (await c.completion(uri, pos)).map((i) => i.label).sort();
    expect(labels).toEqual(API.classes.find((k) => k.name === 'Snapshot')!.methods.map((m) => m.name).sort());
  } finally {
    await c.shutdown();
    project.cleanup();
  }
});
