import { afterAll, beforeAll, expect, test } from 'vitest';
import { cursor, LspTestClient, makeProject } from './helpers/lsp-client.js';
import { SAMPLE_FILES } from './helpers/sample-project.js';

const project = makeProject(SAMPLE_FILES);
let c: LspTestClient;
beforeAll(async () => { c = await LspTestClient.start(project.dir); });
afterAll(async () => { await c.shutdown(); project.cleanup(); });

test('smoke', async () => {
  const src = cursor('local vm = provium:vm("a", "default"):boot()\ntest("x", function(t)\n  local snap = vm:run("x")\n  snap:|\nend)\n');
  const uri = await c.openDocument(project.uri('tests/a.test.lua'), src.text);
  const items = await c.completion(uri, src.pos);
  console.log(items.map((i) => i.label + ' ' + i.detail));
  console.log(JSON.stringify(await c.currentDiagnostics(uri), null, 1));
});
