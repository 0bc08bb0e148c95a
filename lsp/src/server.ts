/**
 * The server's state and its handlers, independent of the transport: document
 * sync, diagnostics publishing, and the feature entry points. connection.ts
 * binds these to LSP methods. Work over a whole document (segmenting it,
 * checking it, listing its tests) runs in slices (slices.ts), so a large
 * document delays only the requests about itself.
 */
import { FileChangeType, type Diagnostic, type DidChangeTextDocumentParams, type FileEvent, type Position, type Range } from 'vscode-languageserver';
import { DiagnosticSeverity } from 'vscode-languageserver';
import { ActiveDocs } from './active-docs.js';
import type { SourceDoc } from './analysis/document.js';
import type { Steps } from './analysis/steps.js';
import type { Client } from './client.js';
import { DiagnosticsScheduler } from './diagnostics-scheduler.js';
import { DocumentSync } from './doc-sync.js';
import { completion } from './features/completion.js';
import { definition } from './features/definition.js';
import { problemSteps, toDiagnostic } from './features/diagnostics.js';
import { hover } from './features/hover.js';
import { codeActions, codeLenses } from './features/lenses-and-actions.js';
import { RUN_FILE, RUN_TEST, TestRunner, type RunOutcome } from './features/run-tests.js';
import { signatureHelp } from './features/signature-help.js';
import { documentSymbols } from './features/symbols.js';
import { pathToUri, type Project } from './project/workspace.js';
import { runSliced, sliced, until } from './slices.js';
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
  private readonly sync: DocumentSync;
  /** The documents in use; the other open ones rest (active-docs.ts). */
  private readonly active = new ActiveDocs();
  private configPublished = new Set<string>();
  /** The latest publish of each document: an earlier one still in its steps gives up. */
  private publishRuns = new Map<string, number>();

  constructor(
    private readonly client: Client,
    private readonly options: ServerOptions,
  ) {
    this.workspace = new WorkspaceManager(options.folders);
    this.scheduler = new DiagnosticsScheduler(options.diagnosticsDelayMs, (uri) => this.publish(uri));
    this.runner = new TestRunner(client, (uri) => this.scheduler.schedule(uri, 0), options.cliPath);
    this.sync = new DocumentSync(this.workspace, {
      opened: (uri) => this.opened(uri),
      changed: (uri) => this.changed(uri),
      failed: (uri, e) => client.log(`provium-lsp: ${uri}: ${(e as Error).stack ?? e}`),
    });
    for (const p of this.workspace.allProjects()) this.publishConfig(p);
  }

  /** `f` on the document once every change sent before the request is applied. */
  private async withDoc<T>(uri: string, f: (project: Project, doc: SourceDoc) => T | Promise<T>, fallback: T): Promise<T> {
    const key = normalizeUri(uri);
    this.use(key);
    await this.sync.ready(key);
    const doc = this.workspace.open.get(key);
    return doc ? f(this.workspace.projectFor(key), doc) : fallback;
  }

  /** `uri` is in use (edited or asked about): the document that stops being in use because of it rests. */
  private use(uri: string): void {
    for (const old of this.active.touch(uri)) this.restIfUnused(old);
  }

  private restIfUnused(uri: string): void {
    if (!this.active.has(uri) && !this.sync.busy(uri)) this.workspace.rest(uri);
  }

  // Sync

  didOpen(uri: string, text: string, version: number): void {
    this.sync.open(normalizeUri(uri), text, version);
  }

  private opened(uri: string): void {
    const project = this.workspace.projectFor(uri);
    this.publishConfig(project);
    this.publish(uri);
    this.recheckOthers(project, uri);
  }

  didChange(p: DidChangeTextDocumentParams): void {
    const key = normalizeUri(p.textDocument.uri);
    this.use(key);
    this.sync.change(key, p.contentChanges, p.textDocument.version);
  }

  private changed(uri: string): void {
    const doc = this.workspace.open.get(uri);
    if (!doc) return;
    const project = this.workspace.projectFor(uri);
    project.edited(doc);
    this.scheduler.schedule(uri);
    if (doc.kind !== 'test') this.recheckOthers(project, uri);
  }

  didClose(uri: string): void {
    const key = normalizeUri(uri);
    const kind = this.workspace.open.get(key)?.kind;
    this.sync.close(key);
    this.active.forget(key);
    this.workspace.close(key);
    this.scheduler.cancel(key);
    this.publishRuns.delete(key);
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

  /**
   * Checks a document in slices and publishes its diagnostics, unless it
   * changes meanwhile (its change publishes again). A document not in use
   * (re-checked because a fixture changed) rests again after.
   */
  private publish(uri: string): void {
    const doc = this.workspace.open.get(uri);
    if (!doc || this.sync.busy(uri)) return;
    const run = (this.publishRuns.get(uri) ?? 0) + 1;
    this.publishRuns.set(uri, run);
    const superseded = () => this.publishRuns.get(uri) !== run || this.workspace.open.get(uri) !== doc || this.sync.busy(uri);
    sliced(until(this.diagnosticSteps(uri, doc), superseded), (diagnostics) => {
      if (!diagnostics || superseded()) return;
      this.client.publishDiagnostics(uri, diagnostics, doc.version);
      this.restIfUnused(uri);
    }, (e) => this.client.log(`provium-lsp: ${uri}: ${(e as Error).stack ?? e}`));
  }

  private *diagnosticSteps(uri: string, doc: SourceDoc): Steps<Diagnostic[] | undefined> {
    const project = this.workspace.projectFor(uri);
    if (doc.broken.length && (yield* doc.repairSteps())) project.edited(doc);
    const epoch = doc.editEpoch;
    const problems = yield* until(problemSteps(project, doc), () => doc.editEpoch !== epoch);
    return problems && [...problems.map((p) => toDiagnostic(doc, p)), ...this.runner.diagnosticsFor(uri)];
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
  documentSymbols = (uri: string) => this.withDoc(uri, (p, d) => runSliced(documentSymbols(p, d)), []);
  codeLenses = (uri: string) => this.withDoc(uri, (p, d) => runSliced(codeLenses(p, d)), []);
  codeActions = (uri: string, range: Range) => this.withDoc(uri, (p, d) => runSliced(codeActions(p, d, range)), []);

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
    await this.sync.ready(uri);
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
