// How editors start the server: `provium lsp --stdio` (the CLI) and `provium-lsp --stdio` (the bin) are the same server.
import { spawnSync } from 'node:child_process';
import { API } from '@provium/types';
import { afterAll, expect, test } from 'vitest';
import { CLI_BIN, cursor, LspTestClient, makeProject, SERVER_BIN } from './helpers/lsp-client.js';
import { SAMPLE_FILES } from './helpers/sample-project.js';

const project = makeProject(SAMPLE_FILES);
afterAll(() => project.cleanup());

test('`provium lsp --stdio` speaks LSP: initialize, diagnostics, completion, shutdown and exit', async () => {
  const c = await LspTestClient.start(project.dir, { diagnosticsDelay: 0 }, {}, [CLI_BIN, 'lsp', '--stdio']);
  try {
    expect(c.initializeResult.serverInfo?.name).toBe('provium-lsp');
    const { text, pos } = cursor('local vm = provium:vm("a", "default")\nlocal snap = vm:snapshot()\nvm:rn("ls")\nsnap:|');
    const uri = await c.openDocument(project.uri('tests/cli.test.lua'), text);
    expect((await c.currentDiagnostics(uri)).map((d) => d.message)).toContain("VM has no method 'rn': did you mean 'run'?");
    const labels = (await c.completion(uri, pos)).map((i) => i.label).sort();
    expect(labels).toEqual(API.classes.find((k) => k.name === 'Snapshot')!.methods.map((m) => m.name).sort());
  } finally {
    await c.shutdown();
  }
  expect(c.proc.exitCode).toBe(0);
});

test('without --stdio both refuse with a usage error that says how to start them', () => {
  const cli = spawnSync(process.execPath, [CLI_BIN, 'lsp'], { encoding: 'utf8', input: '' });
  expect(cli.status).toBe(2);
  expect(cli.stderr).toBe('provium: lsp: start it with --stdio (it speaks LSP over stdin/stdout): provium lsp --stdio\n');
  const bin = spawnSync(process.execPath, [SERVER_BIN], { encoding: 'utf8', input: '' });
  expect(bin.status).toBe(2);
  expect(bin.stderr).toMatch(/start it with --stdio/);
});

test('`provium --help` lists the lsp command', () => {
  const help = spawnSync(process.execPath, [CLI_BIN, '--help'], { encoding: 'utf8' });
  expect(help.stdout).toMatch(/^ {2}lsp \[options\] +start the language server for editors/m);
});
