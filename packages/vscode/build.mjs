// Bundles the extension (CommonJS, `vscode` left to the editor) and the language server
// (@provium/lsp from its built dist/, with luaparse, smol-toml and the schema) into dist/.
// Run `npx tsc -b` at the repository root first: the server comes from lsp/dist.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const common = { bundle: true, platform: 'node', target: 'node18', format: 'cjs', sourcemap: false, logLevel: 'warning', legalComments: 'none' };

rmSync(join(here, 'dist'), { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: [join(here, 'src/extension.ts')], outfile: join(here, 'dist/extension.js'), external: ['vscode'] }),
  build({ ...common, entryPoints: [join(here, 'src/server.ts')], outfile: join(here, 'dist/server.js') }),
]);
