/**
 * The server's state and its handlers, independent of the transport: document
 * sync, diagnostics publishing, and the feature entry points. connection.ts
 * binds these to LSP methods.
 */
import { FileChangeType, type DidChangeTextDocumentParams, type FileEvent, type Position, type Range } from 'vscode-languageserver';
import { DiagnosticSeverity } from 'vscode-languageserver';
import type { SourceDoc } from './analysis/document.js';
import type { Client } from './client.js';
import { DiagnosticsScheduler } from './diagnostics-scheduler.js';
import { completion } from './features/completion.js';
import { definition } from './features/definition.js';
import { problemsOf, toDiagnostic } from './features/diagnostics.js';
import { hover } from './features/hover.js';
import { codeActions, codeLenses } from './features/lenses-and-actions.js';
import { RUN_FILE, RUN_TEST, TestRunner, type RunOutcome } from './features/run-tests.js';
import { signatureHelp } from './features/signature-help.js';
import { documentSymbols } from './features/symbols.js';
import { toOffset } from './positions.js';
import { pathToUri, type Project } from './project/workspace.js';
import { normalizeUri, WorkspaceManager } from './workspace-manager.js';

export interface ServerOptions {
  /** Folders of the workspace (paths). */
  folders: string[];
  /** Debounce of diagnostics after an edit. */
  diagnosticsDelayMs: number;
  /** The provium CLI to run tests with (default: found in node_modules/.bin or PATH). */
  cliPath?: string;
  /** False: the run commands refuse (the editor does not trust the workspace, e.g. VS Code's restricted mode). */
  allowRun?: boolean;
}

export class ProviumServer {
  readonly workspace: WorkspaceManager;
  private readonly scheduler: DiagnosticsScheduler;
  private readonly runner: TestRunner;
  private configPublished = new Set<string>();

  constructor(
    private readonly client: Client,
    private readonly options: ServerOptions,
  ) {
    this.workspace = new WorkspaceManager(options.folders);
    this.scheduler = new DiagnosticsScheduler(options.diagnosticsDelayMs, (uri) => this.publish(uri));
    this.runner = new TestRunner(client, (uri) => this.scheduler.schedule(uri, 0), options.cliPath);
    for (const p of this.workspace.allProjects()) this.publishConfig(p);
  }

  private withDoc<T>(uri: string, f: (project: Project, doc: SourceDoc) => T, fallback: T): T {
    const key = normalizeUri(uri);
    const doc = this.workspace.open.get(key);
    return doc ? f(this.workspace.projectFor(key), doc) : fallback;
  }

  // Sync

  didOpen(uri: string, text: string, version: number): void {
    const { project } = this.workspace.openDoc(normalizeUri(uri), text, version);
    this.publishConfig(project);
    this.publish(normalizeUri(uri));
    this.recheckOthers(project, normalizeUri(uri));
  }

  didChange(p: DidChangeTextDocumentParams): void {
    const uri = normalizeUri(p.textDocument.uri);
    const doc = this.workspace.open.get(uri);
    if (!doc) return;
    for (const c of p.contentChanges) {
      if ('range' in c) doc.applyEdit(toOffset(doc, c.range.start), toOffset(doc, c.range.end), c.text, p.textDocument.version);
      else doc.setText(c.text, p.textDocument.version);
    }
    const project = this.workspace.projectFor(uri);
    project.edited(doc);
    this.scheduler.schedule(uri);
    if (doc.kind !== 'test') this.recheckOthers(project, uri);
  }

  didClose(uri: string): void {
    const key = normalizeUri(uri);
    const kind = this.workspace.open.get(key)?.kind;
    this.workspace.close(key);
    this.scheduler.cancel(key);
    this.client.publishDiagnostics(key, []);
    if (kind && kind !== 'test') this.recheckOthers(this.workspace.projectFor(key), key);
  }

  didChangeWatchedFiles(changes: FileEvent[]): void {
    const touched = new Set<Project>();
    for (const c of changes) {
      const uri = normalizeUri(c.uri);
      this.workspace.fileChanged(uri, c.type !== FileChangeType.Changed);
      touched.add(this.workspace.projectFor(uri));
    }
    for (const p of touched) {
      this.publishConfig(p);
      this.recheckOthers(p);
    }
  }

  private recheckOthers(project: Project, except?: string): void {
    for (const uri of this.workspace.open.keys()) {
      if (uri !== except && this.workspace.projectFor(uri) === project) this.scheduler.schedule(uri);
    }
  }

  private publish(uri: string): void {
    const doc = this.workspace.open.get(uri);
    if (!doc) return;
    const project = this.workspace.projectFor(uri);
    if (doc.broken.length && doc.repairBroken()) project.edited(doc);
    const diagnostics = [...problemsOf(project, doc).map((p) => toDiagnostic(doc, p)), ...this.runner.diagnosticsFor(uri)];
    this.client.publishDiagnostics(uri, diagnostics, doc.version);
  }

  /** provium.toml problems appear on provium.toml itself. */
  private publishConfig(project: Project): void {
    const file = project.config.file;
    if (!file) return;
    const uri = pathToUri(file);
    const problems = project.config.problems;
    if (!problems.length && !this.configPublished.has(uri)) return;
    this.configPublished.add(uri);
    this.client.publishDiagnostics(uri, problems.map((p) => ({
      range: { start: { line: p.line, character: p.character }, end: { line: p.line, character: p.character + 1 } },
      severity: DiagnosticSeverity.Error,
      source: 'provium',
      message: p.message,
    })));
  }

  // Features

  completion = (uri: string, pos: Position) => this.withDoc(uri, (p, d) => completion(p, d, pos), []);
  hover = (uri: string, pos: Position) => this.withDoc(uri, (p, d) => hover(p, d, pos), null);
  signatureHelp = (uri: string, pos: Position) => this.withDoc(uri, (p, d) => signatureHelp(p, d, pos), null);
  definition = (uri: string, pos: Position) => this.withDoc(uri, (p, d) => definition(p, d, pos), null);
  documentSymbols = (uri: string) => this.withDoc(uri, documentSymbols, []);
  codeLenses = (uri: string) => this.withDoc(uri, codeLenses, []);
  codeActions = (uri: string, range: Range) => this.withDoc(uri, (p, d) => codeActions(p, d, range), []);

  async executeCommand(command: string, args: unknown[]): Promise<RunOutcome | null> {
    const [uriArg, test] = args as [unknown, unknown];
    if ((command !== RUN_TEST && command !== RUN_FILE) || typeof uriArg !== 'string' || (command === RUN_TEST && typeof test !== 'string')) {
      this.client.showMessage('error', `provium: unknown command or arguments: ${command} ${JSON.stringify(args)}`);
      return null;
    }
    if (this.options.allowRun === false) {
      this.client.showMessage('error', 'provium: running tests is turned off in this workspace (the editor does not trust it): trust the workspace to run them');
      return null;
    }
    const uri = normalizeUri(uriArg);
    const project = this.workspace.projectFor(uri);
    const doc = this.workspace.open.get(uri) ?? project.docFor(uri);
    if (!doc) {
      this.client.showMessage('error', `provium: cannot read ${uri}`);
      return null;
    }
    return this.runner.run(project, doc, command === RUN_TEST ? (test as string) : undefined);
  }

  dispose(): void {
    this.scheduler.dispose();
    this.runner.dispose();
  }
}
