/** The switchboard: binds LSP methods to the server's handlers, nothing more. */
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  DidChangeWatchedFilesNotification,
  TextDocumentSyncKind,
  type Connection,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver';
import { connectionClient } from './client.js';
import { COMMANDS } from './features/run-tests.js';
import { ProviumServer } from './server.js';

const DEFAULT_DIAGNOSTICS_DELAY_MS = 150;

function foldersOf(p: InitializeParams): string[] {
  const uris = p.workspaceFolders?.map((f) => f.uri) ?? (p.rootUri ? [p.rootUri] : []);
  return uris.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
}

/** Binds the handlers and starts listening; tells whether `shutdown` was received (for the exit code). */
export function bindConnection(connection: Connection): { shutdownReceived: () => boolean } {
  let server: ProviumServer | undefined;
  let shutdown = false;
  let watchFiles = false;
  const client = connectionClient(connection);
  /** Notification handlers must not throw into the transport: log and carry on. */
  const guard = <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => {
    try {
      f(...a);
    } catch (e) {
      client.log(`provium-lsp: ${(e as Error).stack ?? e}`);
    }
  };

  connection.onInitialize((p): InitializeResult => {
    const opts = (p.initializationOptions ?? {}) as { diagnosticsDelay?: number; cliPath?: string; allowRun?: boolean };
    server = new ProviumServer(client, {
      folders: foldersOf(p),
      diagnosticsDelayMs: typeof opts.diagnosticsDelay === 'number' ? opts.diagnosticsDelay : DEFAULT_DIAGNOSTICS_DELAY_MS,
      cliPath: opts.cliPath,
      allowRun: opts.allowRun !== false,
    });
    watchFiles = !!p.capabilities?.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        completionProvider: { triggerCharacters: [':', '.', '"', "'", '{', ','] },
        hoverProvider: true,
        signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [','] },
        definitionProvider: true,
        documentSymbolProvider: true,
        codeLensProvider: { resolveProvider: false },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.Empty] },
        executeCommandProvider: { commands: COMMANDS },
      },
      serverInfo: { name: 'provium-lsp', version: '0.1.0' },
    };
  });
  connection.onInitialized(() => {
    if (watchFiles) {
      void connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.lua' }, { globPattern: '**/provium.toml' }] });
    }
  });
  const s = () => server!;
  connection.onDidOpenTextDocument(guard((p) => s().didOpen(p.textDocument.uri, p.textDocument.text, p.textDocument.version)));
  connection.onDidChangeTextDocument(guard((p) => s().didChange(p)));
  connection.onDidCloseTextDocument(guard((p) => s().didClose(p.textDocument.uri)));
  connection.onDidChangeWatchedFiles(guard((p) => s().didChangeWatchedFiles(p.changes)));
  connection.onCompletion((p) => s().completion(p.textDocument.uri, p.position));
  connection.onHover((p) => s().hover(p.textDocument.uri, p.position));
  connection.onSignatureHelp((p) => s().signatureHelp(p.textDocument.uri, p.position));
  connection.onDefinition((p) => s().definition(p.textDocument.uri, p.position));
  connection.onDocumentSymbol((p) => s().documentSymbols(p.textDocument.uri));
  connection.onCodeLens((p) => s().codeLenses(p.textDocument.uri));
  connection.onCodeAction((p) => s().codeActions(p.textDocument.uri, p.range));
  connection.onExecuteCommand((p) => s().executeCommand(p.command, p.arguments ?? []));
  connection.onShutdown(() => {
    shutdown = true;
    server?.dispose();
  });
  connection.listen();
  return { shutdownReceived: () => shutdown };
}
