// The VS Code extension (packages/vscode) builds into a .vsix with @vscode/vsce, offline, and the .vsix
// holds what VS Code needs: the manifest that activates it in a workspace with provium.toml, the
// extension bundle (vscode-languageclient inside) and a bundled server that works on its own.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { API } from '@provium/types';
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
  const req = createRequire(file);
  const Module = req('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = Module._load;
  Module._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? fake : load.call(this, request, ...rest);
  };
  try {
    const ext = req(file) as Record<string, unknown>;
    expect(typeof ext.activate).toBe('function');
    expect(typeof ext.deactivate).toBe('function');
  } finally {
    Module._load = load;
  }
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
