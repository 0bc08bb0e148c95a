/**
 * The Provium extension: starts the Provium language server for the `*.lua`
 * files of a workspace that has a provium.toml (the activation event), and
 * stops it with the window. The server is bundled beside this file
 * (dist/server.js); `provium.server.command` starts another one instead.
 *
 * Everything else comes from the server: completion, hover, signature help,
 * go-to-definition, symbols, diagnostics, quick fixes, and the "Run test" /
 * "Run file" code lenses, whose commands vscode-languageclient registers from
 * the server's executeCommandProvider.
 */
import * as path from 'node:path';
import { commands, window, workspace, type ExtensionContext } from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

function serverOptions(context: ExtensionContext): ServerOptions {
  const custom = workspace.getConfiguration('provium').get<string[]>('server.command', []);
  if (workspace.isTrusted && custom.length > 0) {
    const [command, ...args] = custom;
    return { command, args, transport: TransportKind.stdio, options: { cwd: workspace.workspaceFolders?.[0]?.uri.fsPath } };
  }
  // The bundled server, run by VS Code's own Node; languageclient adds --stdio.
  const module = context.asAbsolutePath(path.join('dist', 'server.js'));
  return {
    run: { module, transport: TransportKind.stdio },
    debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
}

function clientOptions(): LanguageClientOptions {
  const cliPath = workspace.getConfiguration('provium').get<string>('cliPath', '');
  return {
    documentSelector: [{ scheme: 'file', pattern: '**/*.lua' }],
    synchronize: {
      // Fixtures, helpers and provium.toml changed outside the editor (git checkout, a new file).
      fileEvents: workspace.createFileSystemWatcher('**/{*.lua,provium.toml}'),
    },
    // Running tests starts the project's provium: only in a trusted workspace.
    initializationOptions: { allowRun: workspace.isTrusted, ...(cliPath && workspace.isTrusted ? { cliPath } : {}) },
    outputChannelName: 'Provium',
  };
}

async function start(context: ExtensionContext): Promise<void> {
  client = new LanguageClient('provium', 'Provium', serverOptions(context), clientOptions());
  await client.start();
}

export async function activate(context: ExtensionContext): Promise<void> {
  context.subscriptions.push(
    commands.registerCommand('provium.restartServer', async () => {
      await client?.stop();
      await start(context);
      void window.setStatusBarMessage('Provium language server restarted', 3000);
    }),
    workspace.onDidChangeConfiguration(async (e) => {
      if (e.affectsConfiguration('provium.server.command') || e.affectsConfiguration('provium.cliPath')) {
        await commands.executeCommand('provium.restartServer');
      }
    }),
    workspace.onDidGrantWorkspaceTrust(() => commands.executeCommand('provium.restartServer')),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
