#!/usr/bin/env node
// The Provium language server over stdio: `provium-lsp --stdio`.
import { startServer } from '../dist/index.js';

if (!process.argv.includes('--stdio')) {
  process.stderr.write('provium-lsp: start it with --stdio (it speaks LSP over stdin/stdout): provium-lsp --stdio\n');
  process.exit(2);
}
startServer();
