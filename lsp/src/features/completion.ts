/**
 * Completion: members after `.` / `:` of the inferred type, fixture names of
 * the right kind, profile and module names inside their string arguments,
 * option keys inside option tables (`test(name, {`), and names in scope.
 */
import { API } from '@provium/types';
import { CompletionItemKind, MarkupKind, type CompletionItem, type Position } from 'vscode-languageserver';
import { functionDoc, globalSpec, LUA_GLOBALS, NOT_AVAILABLE, signatureLabel } from '../analysis/api-model.js';
import { cursorContext, type CursorContext } from '../analysis/cursor-context.js';
import type { SourceDoc } from '../analysis/document.js';
import { bindingType, listMembers, type MemberInfo } from '../analysis/infer.js';
import { describeType } from '../analysis/lua-types.js';
import { visibleBindings } from '../analysis/scope.js';
import { toOffset, toRange } from '../positions.js';
import type { Project } from '../project/workspace.js';

const MAX_TYPED_LOCALS = 60;

export function completion(project: Project, doc: SourceDoc, pos: Position): CompletionItem[] {
  const offset = toOffset(doc, pos);
  const a = project.analysis(doc);
  const c = cursorContext(a, offset);
  return itemsFor(c, project, doc, offset);
}

function itemsFor(c: CursorContext, project: Project, doc: SourceDoc, offset: number): CompletionItem[] {
  switch (c.kind) {
    case 'member': return listMembers(c.receiver, c.indexer, project.ctx()).map(memberItem);
    case 'string': return stringItems(c, project, doc, offset);
    case 'key':
      return c.record.fields.filter((f) => !c.present.includes(f.name)).map((f) => ({
        label: f.name,
        kind: CompletionItemKind.Property,
        detail: `${c.record.name}.${f.name}: ${f.type}${f.default ? ` = ${f.default}` : ''}`,
        documentation: { kind: MarkupKind.Markdown, value: f.doc },
        insertText: `${f.name} = `,
      }));
    case 'name': return nameItems(c.scope, project);
    case 'none': return [];
  }
}

function memberItem(m: MemberInfo): CompletionItem {
  if (m.method) {
    const planned = m.method.status === 'planned';
    return {
      label: m.name,
      kind: CompletionItemKind.Method,
      detail: `${signatureLabel(m.method, m.owner)}${planned ? ` — ${NOT_AVAILABLE}` : ''}`,
      documentation: { kind: MarkupKind.Markdown, value: functionDoc(m.method, m.owner) },
      sortText: `${planned ? 1 : 0}${m.name}`,
    };
  }
  const planned = m.field?.status === 'planned';
  const type = m.type ? describeType(m.type()) : m.field?.type;
  return {
    label: m.name,
    kind: m.kind === 'function' ? CompletionItemKind.Function : m.kind === 'member' ? CompletionItemKind.Variable : CompletionItemKind.Field,
    detail: `${m.name}${type ? `: ${type}` : ''}${planned ? ` — ${NOT_AVAILABLE}` : ''}`,
    documentation: m.field?.doc ?? m.doc ? { kind: MarkupKind.Markdown, value: (m.field?.doc ?? m.doc)! } : undefined,
    sortText: `${planned ? 1 : 0}${m.name}`,
  };
}

function stringItems(c: Extract<CursorContext, { kind: 'string' }>, project: Project, doc: SourceDoc, offset: number): CompletionItem[] {
  const range = toRange(doc, c.start, offset);
  const item = (label: string, detail: string, kind: CompletionItemKind): CompletionItem => ({ label, kind, detail, textEdit: { range, newText: label } });
  switch (c.role) {
    case 'vm_fixture':
    case 'lab_fixture': {
      const wanted = c.role === 'vm_fixture' ? 'vm' : 'lab';
      return project.fixtureNames().flatMap((n) => {
        const kind = project.fixture(n)?.kind;
        if (kind !== wanted && kind !== 'unknown') return [];
        return [item(n, `${wanted === 'vm' ? 'single-VM' : 'lab'} fixture — ${project.fixturePath(n)}`, CompletionItemKind.File)];
      });
    }
    case 'profile':
      return project.profiles().map((p) => item(p, p === 'default' ? 'built-in profile' : 'profile from provium.toml', CompletionItemKind.EnumMember));
    case 'module':
      return project.moduleNames().map((m) => item(m, 'helper module', CompletionItemKind.Module));
  }
}

function nameItems(scope: Parameters<typeof visibleBindings>[0], project: Project): CompletionItem[] {
  const ctx = project.ctx();
  const locals = visibleBindings(scope);
  const items: CompletionItem[] = locals.map((b, i) => ({
    label: b.name,
    kind: CompletionItemKind.Variable,
    detail: i < MAX_TYPED_LOCALS ? `local ${b.name}: ${describeType(bindingType(b, ctx))}` : `local ${b.name}`,
    sortText: `0${b.name}`,
  }));
  const seen = new Set(locals.map((b) => b.name));
  for (const g of API.globals) {
    if (seen.has(g.name)) continue;
    seen.add(g.name);
    const spec = globalSpec(g.name)!;
    items.push({
      label: g.name,
      kind: g.kind === 'function' ? CompletionItemKind.Function : CompletionItemKind.Variable,
      detail: g.fn ? signatureLabel(g.fn) : `${g.name}: ${g.type}`,
      documentation: { kind: MarkupKind.Markdown, value: g.fn ? functionDoc(g.fn) : spec.doc },
      sortText: `1${g.name}`,
    });
  }
  for (const name of LUA_GLOBALS) {
    if (!seen.has(name)) items.push({ label: name, kind: CompletionItemKind.Function, detail: 'Lua standard library', sortText: `2${name}` });
  }
  return items;
}
