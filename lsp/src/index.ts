/**
 * The Provium language server. `startServer()` speaks LSP over the transport
 * named on the command line (`--stdio`), as `provium lsp --stdio` and the
 * `provium-lsp` bin do.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node.js';
import { bindConnection } from './connection.js';

export function startServer(): void {
  bindConnection(createConnection(ProposedFeatures.all));
}
