/**
 * Volar-style helpers for end-to-end LSP tests: start the real server over
 * stdio (the `provium-lsp` bin, built dist), open documents, ask for features,
 * wait for published diagnostics (by event, never by sleeping).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node.js';
import type {
  CodeAction, CodeLens, CompletionItem, CompletionList, Diagnostic, DocumentSymbol, Hover, InitializeResult, Location,
  Position, PublishDiagnosticsParams, Range, SignatureHelp,
} from 'vscode-languageserver-protocol';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const SERVER_BIN = join(REPO, 'lsp/bin/provium-lsp.js');
/** The server with a planned method added to the schema: VM:migrate(host: string) (helpers/planned-entry.mjs). */
export const PLANNED_SERVER_ARGS = ['--import', pathToFileURL(join(REPO, 'test/lsp/helpers/planned-entry.mjs')).href, SERVER_BIN, '--stdio'];
/** The provium CLI (`provium lsp --stdio` starts the same server; `provium test` runs tests for the run commands). */
export const CLI_BIN = join(REPO, 'runner/bin/provium.js');

/** A throwaway project directory with the given files (path -> content). */
export function makeProject(files: Record<string, string>): { dir: string; uri: (rel: string) => string; write: (rel: string, text: string) => void; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'provium-lsp-'));
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  for (const [rel, text] of Object.entries(files)) write(rel, text);
  return { dir, uri: (rel) => pathToFileURL(join(dir, rel)).href, write, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Splits `text` at the `|` cursor marker: the text without it and the cursor position. */
export function cursor(textWithBar: string): { text: string; pos: Position } {
  const i = textWithBar.indexOf('|');
  if (i < 0) throw new Error('no | cursor marker in the test source');
  const before = textWithBar.slice(0, i);
  const lines = before.split('\n');
  return { text: before + textWithBar.slice(i + 1), pos: { line: lines.length - 1, character: lines[lines.length - 1].length } };
}

/** Position of the first occurrence of `needle` in `text` (plus `delta` characters). */
export function positionOf(text: string, needle: string, delta = 0): Position {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`"${needle}" not in text`);
  const lines = text.slice(0, i + delta).split('\n');
  return { line: lines.length - 1, character: lines[lines.length - 1].length };
}

export class LspTestClient {
  private diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  private waiters: { uri: string; test: (d: PublishDiagnosticsParams) => boolean; done: (d: PublishDiagnosticsParams) => void }[] = [];
  private versions = new Map<string, number>();
  readonly messages: { type: number; message: string }[] = [];
  initializeResult!: InitializeResult;

  private constructor(
    readonly proc: ChildProcess,
    readonly rpc: MessageConnection,
  ) {
    rpc.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      const list = this.diagnostics.get(p.uri) ?? [];
      list.push(p);
      this.diagnostics.set(p.uri, list);
      this.waiters = this.waiters.filter((w) => {
        if (w.uri !== p.uri || !w.test(p)) return true;
        w.done(p);
        return false;
      });
    });
    rpc.onNotification('window/showMessage', (m: { type: number; message: string }) => this.messages.push(m));
    rpc.onNotification('window/logMessage', () => undefined);
    rpc.onRequest('client/registerCapability', () => null);
  }

  static async start(
    rootDir: string,
    initializationOptions: Record<string, unknown> = { diagnosticsDelay: 0 },
    capabilities: Record<string, unknown> = {},
    serverArgs: string[] = [SERVER_BIN, '--stdio'],
  ): Promise<LspTestClient> {
    const proc = spawn(process.execPath, serverArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
    const rpc = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    rpc.listen();
    const c = new LspTestClient(proc, rpc);
    const rootUri = pathToFileURL(rootDir).href;
    // A server that dies while starting (not built, a crash at import) fails the suite at once, not at the hook timeout.
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code, signal) => reject(new Error(`provium-lsp exited while starting (code ${code}, signal ${signal})`))));
    c.initializeResult = await Promise.race([exited, rpc.sendRequest<InitializeResult>('initialize', {
      processId: process.pid,
      rootUri,
      workspaceFolders: [{ uri: rootUri, name: 'test' }],
      capabilities,
      initializationOptions,
    })]);
    exited.catch(() => undefined);
    await rpc.sendNotification('initialized', {});
    return c;
  }

  /** Opens a document (its text from disk unless given) and returns its uri. */
  async openDocument(uri: string, text?: string): Promise<string> {
    const content = text ?? readFileSync(fileURLToPath(uri), 'utf8');
    this.versions.set(uri, 1);
    await this.rpc.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'lua', version: 1, text: content } });
    return uri;
  }

  /** Incremental edits (`range` given) or a full replacement (a string). */
  async change(uri: string, edits: { range: Range; text: string }[] | string): Promise<number> {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    const contentChanges = typeof edits === 'string' ? [{ text: edits }] : edits;
    await this.rpc.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges });
    return version;
  }

  async close(uri: string): Promise<void> {
    await this.rpc.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  /** The next diagnostics published for `uri` that satisfy `test` (the latest one if it already does). */
  diagnosticsFor(uri: string, test: (d: PublishDiagnosticsParams) => boolean = () => true): Promise<Diagnostic[]> {
    const latest = this.diagnostics.get(uri)?.at(-1);
    if (latest && test(latest)) return Promise.resolve(latest.diagnostics);
    return new Promise((resolveP) => this.waiters.push({ uri, test, done: (d) => resolveP(d.diagnostics) }));
  }

  /** Diagnostics published for the current version of `uri`. */
  currentDiagnostics(uri: string): Promise<Diagnostic[]> {
    const v = this.versions.get(uri);
    return this.diagnosticsFor(uri, (d) => d.version === v);
  }

  async completion(uri: string, position: Position): Promise<CompletionItem[]> {
    const r = await this.rpc.sendRequest<CompletionItem[] | CompletionList | null>('textDocument/completion', { textDocument: { uri }, position });
    return Array.isArray(r) ? r : (r?.items ?? []);
  }

  hover(uri: string, position: Position): Promise<Hover | null> {
    return this.rpc.sendRequest('textDocument/hover', { textDocument: { uri }, position });
  }

  signatureHelp(uri: string, position: Position): Promise<SignatureHelp | null> {
    return this.rpc.sendRequest('textDocument/signatureHelp', { textDocument: { uri }, position });
  }

  definition(uri: string, position: Position): Promise<Location | Location[] | null> {
    return this.rpc.sendRequest('textDocument/definition', { textDocument: { uri }, position });
  }

  documentSymbols(uri: string): Promise<DocumentSymbol[]> {
    return this.rpc.sendRequest('textDocument/documentSymbol', { textDocument: { uri } });
  }

  codeLens(uri: string): Promise<CodeLens[]> {
    return this.rpc.sendRequest('textDocument/codeLens', { textDocument: { uri } });
  }

  codeActions(uri: string, range: Range, diagnostics: Diagnostic[] = []): Promise<CodeAction[]> {
    return this.rpc.sendRequest('textDocument/codeAction', { textDocument: { uri }, range, context: { diagnostics } });
  }

  executeCommand<T = unknown>(command: string, args: unknown[]): Promise<T> {
    return this.rpc.sendRequest('workspace/executeCommand', { command, arguments: args });
  }

  notify(method: string, params: unknown): Promise<void> {
    return this.rpc.sendNotification(method, params);
  }

  async shutdown(): Promise<void> {
    const exited = new Promise((r) => this.proc.once('exit', r));
    await this.rpc.sendRequest('shutdown');
    await this.rpc.sendNotification('exit');
    await exited;
    this.rpc.dispose();
  }
}
