/**
 * Everything the server sends on its own initiative goes through this
 * interface, so features can be exercised with a recording fake.
 */
import { MessageType, type Connection, type Diagnostic } from 'vscode-languageserver';

export interface Client {
  publishDiagnostics(uri: string, diagnostics: Diagnostic[], version?: number): void;
  showMessage(type: 'error' | 'warning' | 'info', message: string): void;
  log(message: string): void;
}

const TYPES = { error: MessageType.Error, warning: MessageType.Warning, info: MessageType.Info };

export function connectionClient(connection: Connection): Client {
  return {
    publishDiagnostics: (uri, diagnostics, version) => void connection.sendDiagnostics({ uri, diagnostics, version }),
    showMessage: (type, message) => void connection.sendNotification('window/showMessage', { type: TYPES[type], message }),
    log: (message) => connection.console.log(message),
  };
}
