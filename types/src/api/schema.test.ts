import { readFileSync } from 'node:fs';
import luaparse from 'luaparse';
import { describe, expect, it } from 'vitest';
import { API } from './schema.js';
import { toLuaCats } from './luacats.js';
import { toReferenceMarkdown } from './reference-md.js';
import { toBindingInterfaces } from './bindings-ts.js';
import { allTypeTexts, findClass, parseType } from './type-expr.js';

describe('API schema', () => {
  it('every type expression names a primitive, class or record', () => {
    for (const { where, text } of allTypeTexts(API)) {
      expect(() => parseType(text, API), where).not.toThrow();
    }
  });

  it('has no duplicate names', () => {
    const names = (xs: { name: string }[]) => xs.map((x) => x.name);
    const unique = (xs: string[]) => expect(new Set(xs).size, xs.join(',')).toBe(xs.length);
    unique(names(API.classes));
    unique(names(API.records));
    unique(names(API.globals));
    for (const c of API.classes) unique([...names(c.methods), ...names(c.fields)]);
  });

  it('covers every class the contract names', () => {
    for (const c of ['Lab', 'VM', 'Snapshot', 'LabSnapshot', 'RunResult', 'Process', 'File', 'Stream', 'Console', 'Clock', 'Bridge', 'NIC', 'TestContext']) {
      expect(findClass(API, c), c).toBeDefined();
    }
  });

  it('exports LuaCATS that is valid Lua and declares every method and global', () => {
    const cats = toLuaCats(API);
    expect(cats.startsWith('---@meta')).toBe(true);
    expect(() => luaparse.parse(cats, { luaVersion: '5.3' })).not.toThrow();
    for (const c of API.classes) {
      expect(cats).toContain(`---@class provium.${c.name}`);
      for (const m of c.methods) expect(cats).toContain(`function __provium_${c.name}:${m.name}(`);
    }
    for (const g of API.globals) expect(cats).toMatch(new RegExp(`^(function )?${g.name}[ (]`, 'm'));
    // Planned entries are marked; when there is one (the schema's status decides), the export says so.
    const planned = API.classes.flatMap((c) => [...c.methods, ...c.fields]).concat(API.globals).filter((e) => e.status === 'planned');
    expect(cats.includes('not available yet')).toBe(planned.length > 0);
    const withPlanned = toLuaCats({ ...API, classes: API.classes.map((c, i) => (i === 0 ? { ...c, methods: c.methods.map((m, j) => (j === 0 ? { ...m, status: 'planned' as const } : m)) } : c)) });
    expect(withPlanned).toContain('not available yet');
  });

  it('bindings.generated.ts is generated from the schema (run `npm run gen:api`)', () => {
    const committed = readFileSync(new URL('./bindings.generated.ts', import.meta.url), 'utf8');
    expect(committed).toBe(toBindingInterfaces(API));
  });

  it('docs/reference/api.md is the generated reference (run `npm run gen:api`)', () => {
    const committed = readFileSync(new URL('../../../docs/reference/api.md', import.meta.url), 'utf8');
    expect(committed).toBe(toReferenceMarkdown(API) + '\n');
  });
});
