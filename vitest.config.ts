import { defineConfig } from 'vitest/config';

// One config for the whole repo: unit tests sit beside the code (src/**/*.test.ts),
// end-to-end suites live in test/. Workspace packages resolve to their built dist/,
// so `npm test` builds first.
export default defineConfig({
  test: {
    include: ['types/src/**/*.test.ts', 'runner/src/**/*.test.ts', 'lsp/src/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
