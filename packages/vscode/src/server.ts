/** The bundled language server: dist/server.js, started by the extension as `node server.js --stdio`. */
import { startServer } from '@provium/lsp';

startServer();
