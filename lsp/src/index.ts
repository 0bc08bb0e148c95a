/**
 * The Provium language server. `startServer()` speaks LSP over standard input
 * and output, as `provium lsp --stdio` and the `provium-lsp --stdio` bin do.
 */
import { ErrorCodes, type ResponseMessage } from 'vscode-languageserver';
import { createConnection, ProposedFeatures, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node.js';
import { bindConnection } from './connection.js';
import { HeaderFilter } from './transport.js';

export function startServer(): void {
  const writer = new StreamMessageWriter(process.stdout);
  const parseError = (message: string) => {
    // It answers no request that could be read: id null (JSON-RPC 2.0).
    const response: ResponseMessage = { jsonrpc: '2.0', id: null, error: { code: ErrorCodes.ParseError, message } };
    void writer.write(response);
  };
  const input = process.stdin.pipe(new HeaderFilter(parseError));
  const { shutdownReceived } = bindConnection(createConnection(ProposedFeatures.all, new StreamMessageReader(input), writer));
  // What vscode-languageserver does for the streams it opens itself from --stdio (given a reader, it does not):
  // the editor closing its end stops the server, and stdout carries only LSP messages.
  input.once('end', () => process.exit(shutdownReceived() ? 0 : 1));
  console.log = console.info = console.debug = console.error;
}
