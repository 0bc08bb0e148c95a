/** `provium list`: the discovered test files and their tests, found statically (no code runs). */
import { loadConfig } from '../config/load.js';
import { discover } from '../list/discover.js';
import { staticTests } from '../list/static-tests.js';
import { scanFixtureGraph } from '../fixtures/graph.js';
import { metaSelected, type MetaPair } from '../selection/meta-filter.js';
import { shardFiles, type ShardOptions } from './shard-option.js';

export interface ListOptions extends ShardOptions {
  filter?: string;
  tag: string[];
  skipTag: string[];
  tagMeta: MetaPair[];
  skipTagMeta: MetaPair[];
  includeSlow?: boolean;
  config?: string;
}

export function listCommand(paths: string[], o: ListOptions, out: NodeJS.WritableStream): number {
  const cwd = process.cwd();
  const config = loadConfig(cwd, o.config);
  const found = discover(paths, config, cwd);
  // The fixtures the files resume price a shard only with recorded times: only then is the graph read.
  const graph = o.durations.length > 0 && o.shard && found.fixtures.length > 0 ? scanFixtureGraph(found.roots, [...found.tests, ...found.fixtures].map((f) => f.path)) : undefined;
  const shard = shardFiles(found, o, { cwd, baseDir: config.baseDir, graph });
  if (shard) found.tests = shard.tests;
  let status = 0;
  for (const file of found.tests) {
    const { tests, syntaxError } = staticTests(file.path, file.display);
    const pathMatches = !o.filter || file.display.includes(o.filter);
    const selected = tests.filter(
      (t) =>
        (pathMatches || (t.name ?? '').includes(o.filter!)) &&
        (o.includeSlow || !t.slow) &&
        (o.tag.length === 0 || t.tags.some((x) => o.tag.includes(x))) &&
        !t.tags.some((x) => o.skipTag.includes(x)) &&
        metaSelected(t.meta, o.tagMeta, o.skipTagMeta),
    );
    if (syntaxError) {
      out.write(`${file.display}\n  syntax error: ${syntaxError}\n`);
      status = 1;
      continue;
    }
    if (selected.length === 0 && o.filter) continue;
    out.write(`${file.display}\n`);
    for (const t of selected) out.write(`  ${t.name ?? '<dynamic>'}${t.slow ? ' [slow]' : ''}${t.tags.length ? ` [${t.tags.join(', ')}]` : ''}\n`);
  }
  if (found.fixtures.length) {
    out.write('fixtures:\n');
    for (const f of found.fixtures) out.write(`  ${f.name}\n`);
  }
  return status;
}
