/**
 * The server's view of the workspace: open documents and the projects they
 * belong to. A document belongs to the nearest directory above it with a
 * provium.toml, else to the workspace folder holding it, else to its own directory.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SourceDoc } from './analysis/document.js';
import { CONFIG_FILE } from './project/config.js';
import { Project, uriToPath } from './project/workspace.js';

/** One spelling per file (clients differ in percent-encoding). */
export function normalizeUri(uri: string): string {
  return uri.startsWith('file:') ? pathToFileURL(fileURLToPath(uri)).href : uri;
}

export class WorkspaceManager {
  readonly open = new Map<string, SourceDoc>();
  private projects = new Map<string, Project>();
  private configDirs = new Map<string, string | undefined>();

  constructor(private readonly folders: string[]) {
    for (const f of folders) this.projectAt(this.configDirAbove(f) ?? f);
  }

  private projectAt(dir: string): Project {
    let p = this.projects.get(dir);
    if (!p) {
      p = new Project(dir, this.open);
      this.projects.set(dir, p);
    }
    return p;
  }

  allProjects(): Project[] {
    return [...this.projects.values()];
  }

  private configDirAbove(start: string): string | undefined {
    const seen: string[] = [];
    let dir = start;
    let found: string | undefined;
    for (;;) {
      if (this.configDirs.has(dir)) {
        found = this.configDirs.get(dir);
        break;
      }
      seen.push(dir);
      if (existsSync(join(dir, CONFIG_FILE))) {
        found = dir;
        break;
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    for (const d of seen) this.configDirs.set(d, found);
    return found;
  }

  projectFor(uri: string): Project {
    const path = uriToPath(uri);
    const configDir = this.configDirAbove(dirname(path));
    if (configDir) return this.projectAt(configDir);
    const folder = this.folders.filter((f) => path.startsWith(f + '/')).sort((a, b) => b.length - a.length)[0];
    return this.projectAt(folder ?? dirname(path));
  }

  openDoc(doc: SourceDoc): void {
    const uri = doc.uri;
    this.open.set(uri, doc);
    const project = this.projectFor(uri);
    project.forget(uri);
    // A fixture or helper the project has not seen yet (created since the last scan).
    if (doc.kind !== 'test' && !project.knowsFile(uriToPath(uri))) project.rescan();
    else project.edited(doc);
  }

  /** The open document `uri` rests until it is needed again (see Project.rest). */
  rest(uri: string): void {
    const doc = this.open.get(uri);
    if (doc) this.projectFor(uri).rest(doc);
  }

  close(uri: string): void {
    const doc = this.open.get(uri);
    this.open.delete(uri);
    if (doc && doc.kind !== 'test') this.projectFor(uri).changed();
  }

  /** A file changed on disk; provium.toml changes forget the cached project roots. */
  fileChanged(uri: string, createdOrDeleted: boolean): void {
    if (uri.endsWith('/' + CONFIG_FILE)) this.configDirs.clear();
    this.projectFor(uri).fileChanged(uri, createdOrDeleted);
  }
}
