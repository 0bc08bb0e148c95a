/**
 * `provium fixture graph|list|stale`: the fixture dependency graph, found
 * statically, with each fixture's cache state (fresh, stale, never built)
 * and size. Keys are computed as `provium test` computes them, which needs
 * the identity of every profile a fixture boots: a profile that is not built
 * yet (the default image, a profile with a `build` command) is built here,
 * with progress on stderr. A fixture whose key cannot be computed (its
 * profile does not resolve, QEMU is missing) shows as `unknown` with why.
 *
 * The heavy modules (luaparse, the image builder, the QEMU driver) load only
 * when one of these commands runs.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { fileTimeout, positiveInt, remoteCacheOptions, timeoutScale } from '../options.js';
import type { ResolvedConfig } from '../../config/load.js';
import type { CachedFixture, FixtureState } from '../../fixtures/cache-paths.js';
import type { FixtureGraph, FixtureRef } from '../../fixtures/graph.js';

interface CommonOptions {
  config?: string;
  json?: boolean;
}

/** One fixture as the commands show it. */
export interface FixtureReport {
  name: string;
  /** As shown: relative to the working directory. */
  file: string;
  /** The installed entry's kind when there is one, else what the file returns statically. */
  kind: 'vm' | 'lab' | 'unknown';
  state: FixtureState | 'unknown';
  /** Why the state is unknown. */
  reason?: string;
  key?: string;
  /** Bytes of the current entry (fresh). */
  bytes?: number;
  /** Entries under older keys. */
  old: CachedFixture[];
  buildsOn: (FixtureRef & { known: boolean; file: string })[];
  usedBy: { file: string; line: number; via?: string }[];
  /** Fixtures that resume it. */
  resumedBy: string[];
  /** Some test file uses it, directly or through other fixtures. */
  used: boolean;
  helpers: string[];
  profiles: string[];
  hostFiles: string[];
}

export interface FixtureOverview {
  dir: string;
  roots: string[];
  fixtures: FixtureReport[];
  /** Cache entries whose sidecar names no current fixture. */
  orphans: CachedFixture[];
  cycle?: string[];
  unknownRefs: { file: string; line: number; via?: string; name: string; kind: 'vm' | 'lab' }[];
  /** The message of a broken graph (cycle, unknown fixture). */
  problem?: string;
}

const rel = (p: string) => {
  const r = path.relative(process.cwd(), p);
  return (r === '' || r.startsWith('..') || path.isAbsolute(r) ? p : r).split(path.sep).join('/');
};

/** Discovers the project's files and reports every fixture with its cache state. */
export async function fixtureOverview(o: { config?: string }, progress: (message: string) => void): Promise<FixtureOverview> {
  const { loadConfig } = await import('../../config/load.js');
  const { discover } = await import('../../list/discover.js');
  const graphMod = await import('../../fixtures/graph.js');
  const { fixtureKeysSettled } = await import('../../fixtures/key.js');
  const { fixturesDir, readFixtureCache, fixtureCacheStatus } = await import('../../fixtures/cache-paths.js');

  const cwd = process.cwd();
  const config = loadConfig(cwd, o.config);
  const found = discover([], config, cwd);
  const graph = graphMod.scanFixtureGraph(found.roots, [...found.tests.map((t) => t.path), ...found.fixtures.map((f) => f.path)]);
  const dir = fixturesDir(config);
  const entries = readFixtureCache(dir);

  const cycle = graphMod.findCycle(graph);
  let problem: string | undefined;
  try {
    graphMod.validateFixtureGraph(graph);
  } catch (e) {
    problem = (e as Error).message;
  }

  let keys = new Map<string, string | Error>();
  if (graph.fixtures.size > 0) {
    try {
      keys = await fixtureKeysSettled(graph, await cliKeyContext(config, progress));
    } catch (e) {
      // no QEMU (its version is part of every key): every state is unknown, with why
      keys = new Map([...graph.fixtures.keys()].map((n) => [n, e as Error]));
    }
  }

  const used = usedFixtures(graph);
  const fixtures: FixtureReport[] = [...graph.fixtures.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((node) => {
      const k = keys.get(node.name);
      const base = {
        name: node.name,
        file: rel(node.file),
        buildsOn: node.resumes.map((r) => ({ ...r, known: graph.fixtures.has(r.name), file: rel(graph.fixtures.get(r.name)?.file ?? '') })),
        usedBy: [...graph.testUses].flatMap(([file, refs]) => refs.filter((r) => r.name === node.name).slice(0, 1).map((r) => ({ file: rel(file), line: r.line, ...(r.via ? { via: rel(r.via) } : {}) }))),
        resumedBy: [...graph.fixtures.values()].filter((n) => n.resumes.some((r) => r.name === node.name)).map((n) => n.name).sort(),
        used: used.has(node.name),
        helpers: node.helpers.map(rel),
        profiles: node.profiles,
        hostFiles: node.hostFiles,
      };
      if (typeof k !== 'string') {
        const old = entries.filter((e) => e.name === node.name);
        return { ...base, kind: node.returns, state: 'unknown' as const, reason: k?.message ?? 'no key', old };
      }
      const status = fixtureCacheStatus(node.name, k, entries);
      return {
        ...base,
        kind: status.entry?.kind ?? node.returns,
        state: status.state,
        key: k,
        ...(status.entry ? { bytes: status.entry.bytes } : {}),
        old: status.old,
      };
    });
  const names = new Set(graph.fixtures.keys());
  const current = new Set(fixtures.map((f) => f.key));
  const orphans = entries.filter((e) => !current.has(e.key) && (e.name === undefined || !names.has(e.name)));
  const unknownRefs = graphMod.unknownReferences(graph).map(({ from, ref }) => ({ file: rel(from), line: ref.line, ...(ref.via ? { via: rel(ref.via) } : {}), name: ref.name, kind: ref.kind }));
  return { dir, roots: found.roots, fixtures, orphans, ...(cycle ? { cycle } : {}), unknownRefs, ...(problem ? { problem } : {}) };
}

/** Fixtures some test file leads to. */
function usedFixtures(graph: FixtureGraph): Set<string> {
  const used = new Set<string>();
  const reach = (name: string) => {
    if (used.has(name) || !graph.fixtures.has(name)) return;
    used.add(name);
    graph.fixtures.get(name)!.resumes.forEach((r) => reach(r.name));
  };
  for (const refs of graph.testUses.values()) refs.forEach((r) => reach(r.name));
  return used;
}

/** Profiles resolve through @provium/image as in a run (MainHost.prepareProfile): built on first use, with progress. */
async function cliKeyContext(config: ResolvedConfig, progress: (message: string) => void) {
  const { createKeyContext } = await import('../../fixtures/key-context.js');
  const resolve = async (name: string) => {
    const { resolveProfile } = await import('@provium/image');
    return resolveProfile(name, config.file ? { file: config.file, toml: config.toml } : undefined, { cacheDir: config.cacheDir, onProgress: progress });
  };
  const prepared = new Map<string, ReturnType<typeof resolve>>();
  return createKeyContext(config, (name) => {
    let p = prepared.get(name);
    if (!p) {
      p = resolve(name);
      prepared.set(name, p);
    }
    return p;
  });
}

// ---------------------------------------------------------------------------
// Output

export const formatBytes = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`);

function stateText(f: FixtureReport): string {
  switch (f.state) {
    case 'fresh':
      return `fresh ${formatBytes(f.bytes ?? 0)}`;
    case 'stale':
      return `stale (${formatBytes(f.old[0]?.bytes ?? 0)} built for older inputs)`;
    case 'never built':
      return 'never built';
    default:
      return `unknown: ${firstLine(f.reason ?? '')}`;
  }
}

const firstLine = (s: string) => s.split('\n')[0]!;
const kindText = (k: FixtureReport['kind']) => (k === 'unknown' ? '?' : k);

/** The tree: each fixture, the fixtures it builds on (recursively), the test files that use it. */
export function renderTree(o: FixtureOverview): string {
  if (o.fixtures.length === 0) return `no fixtures (*.fixture.lua) under ${o.roots.map(rel).join(', ')}\n`;
  const byName = new Map(o.fixtures.map((f) => [f.name, f]));
  const lines: string[] = [];
  const head = (f: FixtureReport) => `${f.name}  ${kindText(f.kind)}  ${stateText(f)}`;
  const children = (f: FixtureReport, chain: string[], top: boolean, prefix: string) => {
    const items: { text: string; sub?: FixtureReport }[] = f.buildsOn.map((d) => {
      const via = d.via ? `  (via ${rel(d.via)})` : '';
      if (!d.known) return { text: `${d.name}  no such fixture (${d.kind}_fixture at ${d.via ? rel(d.via) : f.file}:${d.line})` };
      if (chain.includes(d.name)) return { text: `${d.name}  cycle!${via}` };
      const dep = byName.get(d.name)!;
      return { text: `${head(dep)}${via}`, sub: dep };
    });
    if (top) {
      for (const u of f.usedBy) items.push({ text: `used by ${u.file}${u.via ? `  (via ${u.via})` : ''}` });
      for (const r of f.resumedBy) items.push({ text: `resumed by ${r}` });
      if (!f.used) items.push({ text: 'no test file uses it' });
    }
    items.forEach((item, i) => {
      const last = i === items.length - 1;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${item.text}`);
      if (item.sub) children(item.sub, [...chain, item.sub.name], false, `${prefix}${last ? '    ' : '│   '}`);
    });
  };
  for (const f of o.fixtures) {
    lines.push(head(f));
    children(f, [f.name], true, '');
  }
  lines.push(cacheLine(o));
  return `${lines.join('\n')}\n`;
}

function cacheLine(o: FixtureOverview): string {
  const n = o.fixtures.filter((f) => f.state === 'fresh').length + o.fixtures.reduce((t, f) => t + f.old.length, 0) + o.orphans.length;
  const bytes = o.fixtures.reduce((t, f) => t + (f.bytes ?? 0) + f.old.reduce((s, e) => s + e.bytes, 0), 0) + o.orphans.reduce((t, e) => t + e.bytes, 0);
  return `cache ${o.dir}: ${n} entr${n === 1 ? 'y' : 'ies'}, ${formatBytes(bytes)}`;
}

const dotQuote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;
const DOT_COLORS: Record<FixtureReport['state'], string> = { fresh: '#c8e6c9', stale: '#ffe0b2', 'never built': '#eeeeee', unknown: '#ffcdd2' };

/** Graphviz: fixtures are boxes colored by state, test files notes; an edge points from the user to what it uses. */
export function renderDot(o: FixtureOverview): string {
  const lines = ['digraph fixtures {', '  rankdir=LR;', '  node [fontname="sans-serif", fontsize=10];'];
  for (const f of o.fixtures) {
    const label = `${f.name}\\n${kindText(f.kind)} · ${f.state}${f.state === 'fresh' ? ` · ${formatBytes(f.bytes ?? 0)}` : ''}`;
    lines.push(`  ${dotQuote(f.name)} [shape=box, style=filled, fillcolor=${dotQuote(DOT_COLORS[f.state])}, label="${label.replace(/"/g, '\\"')}"];`);
  }
  const tests = new Set<string>();
  for (const f of o.fixtures) {
    for (const d of f.buildsOn) {
      if (!d.known) lines.push(`  ${dotQuote(d.name)} [shape=box, style=dashed, color=red, label=${dotQuote(`${d.name} (no such fixture)`)}];`);
      lines.push(`  ${dotQuote(f.name)} -> ${dotQuote(d.name)} [label=${dotQuote('builds on')}];`);
    }
    for (const u of f.usedBy) {
      if (!tests.has(u.file)) lines.push(`  ${dotQuote(u.file)} [shape=note];`);
      tests.add(u.file);
      lines.push(`  ${dotQuote(u.file)} -> ${dotQuote(f.name)};`);
    }
  }
  for (const r of o.unknownRefs) {
    if (o.fixtures.some((f) => f.file === r.file)) continue; // drawn above
    if (!tests.has(r.file)) lines.push(`  ${dotQuote(r.file)} [shape=note];`);
    tests.add(r.file);
    lines.push(`  ${dotQuote(r.name)} [shape=box, style=dashed, color=red, label=${dotQuote(`${r.name} (no such fixture)`)}];`);
    lines.push(`  ${dotQuote(r.file)} -> ${dotQuote(r.name)} [color=red];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const entryJson = (e: CachedFixture) => ({ key: e.key, kind: e.kind, bytes: e.bytes, ...(e.name ? { name: e.name } : {}), ...(e.built_at ? { built_at: e.built_at } : {}) });

function fixtureJson(f: FixtureReport) {
  return {
    name: f.name,
    file: f.file,
    kind: f.kind,
    state: f.state,
    ...(f.reason ? { reason: f.reason } : {}),
    key: f.key ?? null,
    bytes: f.bytes ?? 0,
    builds_on: f.buildsOn.map((d) => ({ name: d.name, kind: d.kind, known: d.known, line: d.line, ...(d.via ? { via: rel(d.via) } : {}) })),
    used_by: f.usedBy,
    resumed_by: f.resumedBy,
    used: f.used,
    helpers: f.helpers,
    profiles: f.profiles,
    host_files: f.hostFiles,
    old_entries: f.old.map(entryJson),
  };
}

export function renderJson(o: FixtureOverview): string {
  return `${JSON.stringify(
    {
      cache_dir: o.dir,
      fixtures: o.fixtures.map(fixtureJson),
      orphan_entries: o.orphans.map(entryJson),
      unknown_references: o.unknownRefs,
      cycle: o.cycle ?? null,
    },
    null,
    2,
  )}\n`;
}

function renderList(o: FixtureOverview): string {
  if (o.fixtures.length === 0) return `no fixtures (*.fixture.lua) under ${o.roots.map(rel).join(', ')}\n`;
  const rows = [['NAME', 'KIND', 'STATE', 'SIZE'], ...o.fixtures.map((f) => [f.name, kindText(f.kind), f.state === 'unknown' ? `unknown: ${firstLine(f.reason ?? '')}` : f.state, f.state === 'fresh' ? formatBytes(f.bytes ?? 0) : f.state === 'stale' ? `(${formatBytes(f.old[0]?.bytes ?? 0)} old)` : '-'])];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  return `${rows.map((r) => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell)).join('  ')).join('\n')}\n${cacheLine(o)}\n`;
}

function renderStale(o: FixtureOverview): string {
  const stale = o.fixtures.filter((f) => f.state === 'stale');
  const lines: string[] = [];
  for (const f of stale) {
    const e = f.old[0]!;
    lines.push(`${f.name}  ${kindText(f.kind)}  ${formatBytes(f.old.reduce((t, x) => t + x.bytes, 0))}${e.built_at ? `  built ${e.built_at}` : ''}`);
  }
  if (stale.length === 0) lines.push('no stale fixtures');
  else lines.push(`${stale.length} stale: their inputs changed since they were built; the next run that uses them rebuilds them (provium fixture build warms the cache)`);
  if (o.orphans.length) {
    lines.push(`${o.orphans.length} cache entr${o.orphans.length === 1 ? 'y' : 'ies'} of fixtures that no longer exist: ${o.orphans.map((e) => `${e.name ?? '(unnamed)'} ${e.key.slice(0, 12)} ${formatBytes(e.bytes)}`).join(', ')}`);
  }
  const unknown = o.fixtures.filter((f) => f.state === 'unknown');
  if (unknown.length) lines.push(`state unknown: ${unknown.map((f) => `${f.name} (${firstLine(f.reason ?? '')})`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// Commands

const progressLine = (m: string) => process.stderr.write(`provium: ${m}\n`);

async function run(o: CommonOptions, render: (ov: FixtureOverview) => string, failOnProblem: boolean): Promise<number> {
  const ov = await fixtureOverview(o, progressLine);
  process.stdout.write(render(ov));
  if (ov.problem && failOnProblem) {
    process.stderr.write(`provium: ${ov.problem}\n`);
    return 2;
  }
  return 0;
}

/** Registers `provium fixture` and its subcommands; `exit` receives each subcommand's status. */
export function fixtureCommand(program: Command, exit: (code: number) => void): Command {
  const fixture = program.command('fixture').description('the fixture cache: graph, list, stale fixtures; build, rebuild, clean; export, import');
  const common = (cmd: Command) => cmd.option('--config <file>', 'provium.toml to use (default: searched upward from the working directory)');

  common(
    fixture
      .command('graph')
      .description('print the fixture dependency graph: what each fixture builds on, which test files use it, its cache state and size')
      .option('--dot', 'print Graphviz (dot) instead of the tree')
      .option('--json', 'print JSON instead of the tree'),
  ).action(async (opts: CommonOptions & { dot?: boolean }) => {
    if (opts.dot && opts.json) {
      const { UsageError } = await import('../../errors.js');
      throw new UsageError('fixture graph: give --dot or --json, not both');
    }
    exit(await run(opts, opts.dot ? renderDot : opts.json ? renderJson : renderTree, true));
  });

  common(fixture.command('list').description('list the fixtures: name, kind, cache state, size').option('--json', 'print JSON')).action(async (opts: CommonOptions) =>
    exit(await run(opts, opts.json ? renderJson : renderList, true)),
  );

  common(fixture.command('stale').description('list the fixtures whose cache entry was built from older inputs').option('--json', 'print JSON')).action(async (opts: CommonOptions) =>
    exit(
      await run(
        opts,
        opts.json
          ? (ov) => renderJson({ ...ov, fixtures: ov.fixtures.filter((f) => f.state === 'stale') })
          : renderStale,
        false,
      ),
    ),
  );
  const buildOpts = (cmd: Command) =>
    remoteCacheOptions(common(cmd))
      .option('-j, --jobs <n>', 'fixtures built at once (default: CPU count)', positiveInt('--jobs'))
      .option('--timeout <duration>', 'per-build timeout (default: provium.toml timeout, else 5m)', fileTimeout('--timeout'))
      .option('--timeout-scale <factor>', 'multiply every timeout (slow CI, emulated VMs)', timeoutScale('--timeout-scale'), 1);
  type BuildCliOptions = CommonOptions & { jobs?: number; timeout?: number; timeoutScale: number; remoteCache?: string; remoteCacheReadOnly?: boolean };
  buildOpts(
    fixture.command('build [names...]').description('build the fixtures the test files reference (or the named ones) into the cache; fresh ones are left alone'),
  ).action(async (names: string[], opts: BuildCliOptions) => {
    const { fixtureBuildCommand } = await import('../../fixtures/build-command.js');
    exit(await fixtureBuildCommand(names, opts, false));
  });
  buildOpts(fixture.command('rebuild [names...]').description('build the fixtures again even when their cache entry is fresh')).action(
    async (names: string[], opts: BuildCliOptions) => {
      const { fixtureBuildCommand } = await import('../../fixtures/build-command.js');
      exit(await fixtureBuildCommand(names, opts, true));
    },
  );
  common(fixture.command('clean').description('remove every cached fixture and its unpacked RAM templates')).action(async (opts: CommonOptions) => {
    const { fixtureCleanCommand } = await import('../../fixtures/build-command.js');
    exit(fixtureCleanCommand(opts));
  });
  return fixture;
}
