/**
 * One Provium project (a directory with provium.toml, or a workspace folder):
 * its config, its fixture and helper files, and the analyses of its Lua files.
 * Open documents win over the files on disk. Implements the ProjectView the
 * analysis asks about fixtures, profiles and modules.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MAX_ROOT_ENTRIES, ROOTS_ADVICE } from '@provium/types';
import { DocAnalysis } from '../analysis/doc-analysis.js';
import { fileKindOf, SourceDoc } from '../analysis/document.js';
import { typeOf, type InferCtx } from '../analysis/infer.js';
import { UNKNOWN, type LuaType } from '../analysis/lua-types.js';
import type { FixtureSummary, ModuleRef, ProjectView } from '../analysis/project-view.js';
import { loadConfig, type ProjectConfig } from './config.js';
import { summarizeFixture } from './fixture-summary.js';

const SKIP_DIRS = new Set(['node_modules', '.git', '.provium', 'dist']);

export function uriToPath(uri: string): string {
  return fileURLToPath(uri);
}

export function pathToUri(path: string): string {
  return pathToFileURL(path).href;
}

/**
 * Every *.lua file under `dir`, recursively (skipping node_modules, .git and
 * hidden directories, and what cannot be read); false when the walk stopped at
 * MAX_ROOT_ENTRIES entries.
 */
function luaFiles(dir: string, out: string[], budget = { left: MAX_ROOT_ENTRIES }): boolean {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return true;
  }
  for (const e of entries) {
    if (--budget.left < 0) return false;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.') && !luaFiles(join(dir, e.name), out, budget)) return false;
    } else if (e.name.endsWith('.lua')) out.push(join(dir, e.name));
  }
  return true;
}

export class Project implements ProjectView {
  config!: ProjectConfig;
  version = 0;
  /** Bumped by every edit of any of the project's files: inference caches older than this are stale. */
  epoch = 0;
  private fixtures = new Map<string, string>();
  private modules = new Map<string, string>();
  private disk = new Map<string, SourceDoc>();
  private analyses = new WeakMap<SourceDoc, DocAnalysis>();
  private summaries = new Map<string, { key: string; summary: FixtureSummary }>();
  private busyModules = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly open: ReadonlyMap<string, SourceDoc>,
  ) {
    this.rescan();
  }

  /** Re-reads provium.toml and the list of fixture and helper files. */
  rescan(): void {
    this.config = loadConfig(this.dir);
    this.fixtures.clear();
    this.modules.clear();
    for (const [i, root] of this.config.rootDirs.entries()) {
      const files: string[] = [];
      if (!luaFiles(root, files)) {
        const message = `[provium] roots: more than ${MAX_ROOT_ENTRIES} files and directories under ${JSON.stringify(this.config.roots[i])}: ${ROOTS_ADVICE} (the language server read only part of it)`;
        this.config.problems.push({ message, line: 0, character: 0 });
      }
      for (const file of files) {
        const rel = relative(root, file).split(sep).join('/');
        if (file.endsWith('.fixture.lua')) {
          const name = rel.slice(0, -'.fixture.lua'.length);
          if (!this.fixtures.has(name)) this.fixtures.set(name, file);
        } else if (!file.endsWith('.test.lua')) {
          const name = rel.slice(0, -'.lua'.length).replace(/\/init$/, '').split('/').join('.');
          if (!this.modules.has(name)) this.modules.set(name, file);
        }
      }
    }
    this.changed();
  }

  knowsFile(path: string): boolean {
    return [...this.fixtures.values(), ...this.modules.values()].includes(path);
  }

  /** Something other files depend on changed. */
  changed(): void {
    this.version++;
    this.epoch++;
  }

  /** An open document of this project was edited. */
  edited(doc: SourceDoc): void {
    this.epoch++;
    if (doc.kind !== 'test') this.version++;
  }

  /** A file changed on disk (from the client's file watcher). */
  fileChanged(uri: string, createdOrDeleted: boolean): void {
    this.disk.delete(uri);
    if (createdOrDeleted || uri.endsWith('/provium.toml')) this.rescan();
    else this.changed();
  }

  ctx(): InferCtx {
    return { project: this, epoch: this.epoch };
  }

  /** The document for a file: the open one, else read from disk (cached). */
  docFor(uri: string): SourceDoc | undefined {
    const open = this.open.get(uri);
    if (open) return open;
    let doc = this.disk.get(uri);
    if (!doc) {
      let text: string;
      try {
        text = readFileSync(uriToPath(uri), 'utf8');
      } catch {
        return undefined;
      }
      doc = new SourceDoc(uri, fileKindOf(uri), text);
      this.disk.set(uri, doc);
    }
    return doc;
  }

  forget(uri: string): void {
    this.disk.delete(uri);
  }

  /** Lets an open test file rest (SourceDoc.rest) with its analysis: nothing else refers to a test file's trees. */
  rest(doc: SourceDoc): void {
    if (doc.kind === 'test' && doc.rest()) this.analyses.delete(doc);
  }

  analysis(doc: SourceDoc): DocAnalysis {
    let a = this.analyses.get(doc);
    if (!a) {
      a = new DocAnalysis(doc, () => this.ctx());
      this.analyses.set(doc, a);
    }
    return a;
  }

  // ProjectView

  fixture(name: string): FixtureSummary | undefined {
    const file = this.fixtures.get(name);
    if (!file) return undefined;
    const uri = pathToUri(file);
    const doc = this.docFor(uri);
    if (!doc) return undefined;
    const key = `${this.version}:${doc.version}:${doc === this.open.get(uri) ? 'open' : 'disk'}`;
    const cached = this.summaries.get(name);
    if (cached?.key === key) return cached.summary;
    // A placeholder breaks recursion through fixtures that resume each other.
    this.summaries.set(name, { key, summary: { name, uri, kind: 'unknown', members: new Map(), deps: [] } });
    const summary = summarizeFixture(this.analysis(doc), name);
    this.summaries.set(name, { key, summary });
    return summary;
  }

  fixtureNames(): string[] {
    return [...this.fixtures.keys()].sort();
  }

  fixtureNameOf(uri: string): string | undefined {
    const path = uriToPath(uri);
    if (!path.endsWith('.fixture.lua')) return undefined;
    for (const root of this.config.rootDirs) {
      const rel = relative(root, path);
      if (!rel.startsWith('..') && !rel.startsWith(sep)) return rel.split(sep).join('/').slice(0, -'.fixture.lua'.length);
    }
    return undefined;
  }

  fixturePath(name: string): string | undefined {
    return this.fixtures.get(name);
  }

  profiles(): string[] {
    return this.config.profiles;
  }

  rootsLabel(): string {
    return this.config.roots.join(', ');
  }

  module(name: string): ModuleRef | undefined {
    const file = this.modules.get(name);
    if (!file) return undefined;
    const uri = pathToUri(file);
    return { uri, type: () => this.moduleType(name, uri) };
  }

  private moduleType(name: string, uri: string): LuaType {
    const doc = this.docFor(uri);
    if (!doc || this.busyModules.has(name)) return UNKNOWN;
    this.busyModules.add(name);
    try {
      const top = [...this.analysis(doc).topLevel()];
      const ret = [...top].reverse().find((p) => p.stmt.type === 'ReturnStatement');
      if (!ret || ret.stmt.type !== 'ReturnStatement' || !ret.stmt.arguments[0]) return UNKNOWN;
      return typeOf(ret.stmt.arguments[0], ret.scope, ret.source, this.ctx());
    } finally {
      this.busyModules.delete(name);
    }
  }

  moduleNames(): string[] {
    return [...this.modules.keys()].sort();
  }

  modulePaths(name: string): string[] {
    const rel = name.split('.').join('/');
    return this.config.roots.flatMap((r) => [`${r}/${rel}.lua`, `${r}/${rel}/init.lua`]);
  }
}
