/** The schema as Markdown: `docs/reference/api.md` is generated from this (`npm run gen:api`). */
import type { ApiSchema, FunctionSpec } from './schema-types.js';
import { formatType, parseType } from './type-expr.js';

export function toReferenceMarkdown(schema: ApiSchema): string {
  const ty = (text: string) => formatType(parseType(text, schema));
  const badge = (s: { status: string }) => (s.status === 'planned' ? ' — *not available yet*' : '');
  const sig = (owner: string, f: { params: FunctionSpec['params']; returns: string }, name: string) =>
    `\`${owner}${name}(${f.params.map((p) => (p.optional ? `${p.name}?` : p.name)).join(', ')})\`${f.returns === 'nil' ? '' : ` → \`${ty(f.returns)}\``}`;
  const fnBlock = (owner: string, f: FunctionSpec): string[] => {
    const out = [`### ${sig(owner, f, f.name)}${badge(f)}`, '', f.doc, ''];
    for (const o of f.overloads ?? []) out.push(`Also ${sig(owner, o, f.name)}: ${o.doc}`, '');
    if (f.params.length) {
      out.push('| parameter | type | default | meaning |', '|---|---|---|---|');
      for (const p of f.params) out.push(`| \`${p.name}\`${p.optional ? ' (optional)' : ''} | ${ty(p.type)} | ${p.default ?? ''} | ${p.doc ?? ''} |`);
      out.push('');
    }
    return out;
  };

  const out = [
    `# Provium Lua API reference (${schema.version})`,
    '',
    'Generated from the schema in `types/src/api/schema.ts` — do not edit by hand; run `npm run gen:api`.',
    'Entries marked *not available yet* are part of the contract but not implemented by this version: the runtime',
    'raises "not available yet" when they are called and the language server says so.',
    '',
    '## Globals',
    '',
  ];
  for (const g of schema.globals) {
    if (g.fn) out.push(...fnBlock('', g.fn));
    else out.push(`### \`${g.name}\` : ${ty(g.type ?? 'any')}${badge(g)}`, '', g.doc, '');
  }
  for (const c of schema.classes) {
    out.push(`## ${c.name}`, '', c.doc, '');
    if (c.fields.length) {
      out.push('| field | type | meaning |', '|---|---|---|');
      for (const f of c.fields) out.push(`| \`${f.name}\` | ${ty(f.type)} | ${f.doc}${badge(f)} |`);
      out.push('');
    }
    if (c.dynamicMembers) out.push(`Members by name: ${ty(c.dynamicMembers.type)} — ${c.dynamicMembers.doc}`, '');
    const owner = c.name === 'TestContext' ? 't:' : `${c.name.toLowerCase()}:`;
    for (const m of c.methods) out.push(...fnBlock(owner, m));
  }
  out.push('## Option tables and records', '');
  for (const r of schema.records) {
    out.push(`### ${r.name}`, '', r.doc + (r.open ? ' Other keys are kept.' : ''), '');
    if (r.fields.length) {
      out.push('| key | type | default | meaning |', '|---|---|---|---|');
      for (const f of r.fields) out.push(`| \`${f.name}\`${f.optional ? '' : ' (required)'} | ${ty(f.type)} | ${f.default ?? ''} | ${f.doc} |`);
      out.push('');
    }
  }
  return out.join('\n');
}
