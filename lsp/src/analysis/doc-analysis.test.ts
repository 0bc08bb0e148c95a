// The analysis of a document is linear in its number of top-level statements:
// work is counted as reads of the document's segment list, not timed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { problemSteps } from '../features/diagnostics.js';
import { testsOf } from '../features/symbols.js';
import { Project } from '../project/workspace.js';
import { SourceDoc } from './document.js';
import { segmentText } from './segments.js';
import { runSteps } from './steps.js';

const dir = mkdtempSync(join(tmpdir(), 'provium-doc-analysis-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A test file with `n` tests; `helpers` gets a field at the end, so reading `helpers.ping` looks at every later statement. */
function testFile(n: number): string {
  const out = ['local vm = provium:vm("main", "default"):boot()', 'local helpers = {}', ''];
  for (let i = 0; i < n; i++) {
    out.push(`test("case ${i}", function(t)`, `  local r = vm:run("echo ${i}")`, '  t:assert_eq(r.exit_code, helpers.ping)', 'end)', '');
  }
  out.push('helpers.ping = 0', '');
  return out.join('\n');
}

/** Segment reads of: opening the file and checking it, listing its tests, then the same after an edit in its middle test. */
function workOf(n: number): { reads: number; problems: number } {
  const text = testFile(n);
  let reads = 0;
  const segments = new Proxy(segmentText(text), {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  const doc = new SourceDoc(pathToFileURL(join(dir, `t${n}.test.lua`)).href, 'test', text, 1, segments);
  const project = new Project(dir, new Map([[doc.uri, doc]]));
  const problems = runSteps(problemSteps(project, doc)).length;
  expect(testsOf(project, doc)).toHaveLength(n);
  const at = text.indexOf(`echo ${n >> 1}"`);
  runSteps(doc.editSteps(at, at, 'x', 2));
  project.edited(doc);
  expect(runSteps(problemSteps(project, doc))).toHaveLength(problems);
  expect(testsOf(project, doc)).toHaveLength(n);
  return { reads, problems };
}

test('twice the tests cost twice the work, not four times', () => {
  const [small, medium, large] = [200, 400, 800].map(workOf);
  expect(small.problems).toBe(0);
  expect(medium.reads / small.reads).toBeLessThan(2.2);
  expect(large.reads / medium.reads).toBeLessThan(2.2);
});
