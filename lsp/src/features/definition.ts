/**
 * Go-to-definition: a fixture name to its file, `require("x")` to the module,
 * `cluster.a` to the `provium:vm("a", ...)` line of the fixture, a local to
 * its declaration, a module function to where the module defines it.
 */
import type { Location, Position } from 'vscode-languageserver';
import type { SourceDoc } from '../analysis/document.js';
import type { Loc } from '../analysis/lua-types.js';
import { toOffset, toRange } from '../positions.js';
import { pathToUri, type Project } from '../project/workspace.js';
import { targetAt } from './symbol-at.js';

function location(project: Project, loc: Loc | undefined): Location | null {
  if (!loc || Number.isNaN(loc.source.base)) return null;
  const doc = project.docFor(loc.source.uri);
  if (!doc) return null;
  return { uri: loc.source.uri, range: toRange(doc, loc.source.base + loc.range[0], loc.source.base + loc.range[1]) };
}

const fileStart = (uri: string): Location => ({ uri, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } });

export function definition(project: Project, doc: SourceDoc, pos: Position): Location | null {
  const t = targetAt(project.analysis(doc), toOffset(doc, pos));
  if (!t) return null;
  switch (t.kind) {
    case 'string': {
      if (t.role === 'module') {
        const m = project.module(t.value);
        return m ? fileStart(m.uri) : null;
      }
      if (t.role === 'profile') return null;
      const path = project.fixturePath(t.value);
      return path ? fileStart(pathToUri(path)) : null;
    }
    case 'member': return location(project, t.loc ?? (t.type.kind === 'function' ? t.type.loc : undefined));
    case 'variable': return location(project, t.loc);
    default: return null;
  }
}
