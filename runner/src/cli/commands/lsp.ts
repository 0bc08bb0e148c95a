/**
 * `provium lsp --stdio`: the Provium language server, the same one as the
 * `provium-lsp` bin of @provium/lsp. It speaks LSP over standard input and
 * output until the editor sends `exit` or closes its end.
 */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';

export function lspCommand(program: Command): void {
  program
    .command('lsp')
    .description('start the language server for editors (completion, hover, go-to, diagnostics of Provium Lua files)')
    .option('--stdio', 'speak LSP over standard input/output (the only transport; editors start it this way)')
    .action(async (opts: { stdio?: boolean }) => {
      if (!opts.stdio) throw new UsageError('lsp: start it with --stdio (it speaks LSP over stdin/stdout): provium lsp --stdio');
      // Loaded only here: the other commands start without the language server.
      const { startServer } = await import('@provium/lsp');
      startServer();
    });
}
