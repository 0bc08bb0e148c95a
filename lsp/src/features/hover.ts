/** Hover: the signature and doc from the schema, or the inferred type of a name. */
import { MarkupKind, type Hover, type Position } from 'vscode-languageserver';
import { classSpec, functionDoc, globalSpec, NOT_AVAILABLE } from '../analysis/api-model.js';
import type { SourceDoc } from '../analysis/document.js';
import { alternatives, describeType, type LuaType } from '../analysis/lua-types.js';
import { toOffset, toRange } from '../positions.js';
import type { Project } from '../project/workspace.js';
import { targetAt, type Target } from './symbol-at.js';

const lua = (code: string) => '```lua\n' + code + '\n```';

function classDocs(t: LuaType): string[] {
  return alternatives(t).flatMap((x) => (x.kind === 'class' ? [classSpec(x.name)?.doc ?? ''] : [])).filter(Boolean);
}

function markdown(t: Target, project: Project): string {
  switch (t.kind) {
    case 'method': return functionDoc(t.spec, t.owner);
    case 'field': return [lua(`${t.owner}.${t.spec.name}: ${t.spec.type}`), t.spec.doc, ...(t.spec.status === 'planned' ? [`**${NOT_AVAILABLE}**`] : [])].join('\n\n');
    case 'member': return [lua(`${t.name}: ${describeType(t.type)}`), ...(t.doc ? [t.doc] : []), ...classDocs(t.type)].join('\n\n');
    case 'variable': return [lua(`local ${t.name}: ${describeType(t.type)}`), ...classDocs(t.type)].join('\n\n');
    case 'global': {
      const g = globalSpec(t.name)!;
      return g.fn ? functionDoc(g.fn) : [lua(`${g.name}: ${g.type}`), g.doc].join('\n\n');
    }
    case 'string': {
      if (t.role === 'profile') return project.profiles().includes(t.value) ? `profile **${t.value}**${t.value === 'default' ? ' (built in)' : ' (provium.toml)'}` : `unknown profile **${t.value}**`;
      if (t.role === 'module') {
        const m = project.module(t.value);
        return m ? `module **${t.value}** — ${m.uri}` : `module **${t.value}** not found`;
      }
      const f = project.fixture(t.value);
      if (!f) return `no fixture **${t.value}**`;
      const kind = f.kind === 'vm' ? 'single-VM fixture (returns a Snapshot)' : f.kind === 'lab' ? 'lab fixture (returns a LabSnapshot)' : f.kind === 'none' ? 'fixture that does not return a snapshot' : 'fixture';
      const members = f.members.size ? `\n\nmembers: ${[...f.members].map(([n, m]) => `\`${n}\` (${m.kind})`).join(', ')}` : '';
      return `${kind} **${t.value}** — ${project.fixturePath(t.value)}${members}`;
    }
  }
}

export function hover(project: Project, doc: SourceDoc, pos: Position): Hover | null {
  const t = targetAt(project.analysis(doc), toOffset(doc, pos));
  if (!t) return null;
  return { contents: { kind: MarkupKind.Markdown, value: markdown(t, project) }, range: toRange(doc, t.range[0], t.range[1]) };
}
