/**
 * Checks of literal values against the type the API wants there: a string
 * where a number goes, a duration or size that does not parse, an unknown key
 * of an option table (recursing into nested option tables and lists).
 */
import { parseDurationText, parseSizeText, DURATION_HELP, SIZE_HELP, type RecordSpec } from '@provium/types';
import { recordSpec, schemaType } from './api-model.js';
import { span, type Expression, type TableConstructorExpression } from './ast.js';
import { stringValue } from './infer.js';
import { alternatives, describeType, type LuaType } from './lua-types.js';
import type { Collector } from './problems.js';
import { didYouMean } from './suggest.js';

function article(word: string): string {
  return /^[aeiouAEIOU]/.test(word) ? `an ${word}` : `a ${word}`;
}

/** How an author reads an expected type: `a string`, `a duration (seconds or "5s")`. */
function expectedLabel(t: LuaType): string {
  return alternatives(t).map((a) => {
    if (a.kind === 'prim') {
      if (a.name === 'duration') return `a duration (seconds, or a string such as "5s")`;
      if (a.name === 'size') return `a size (bytes, or a string such as "512M")`;
      if (a.name === 'bytes') return 'a string';
      return article(a.name);
    }
    if (a.kind === 'record') return `a table (${a.name})`;
    if (a.kind === 'list') return `a list of ${describeType(a.of)}`;
    if (a.kind === 'map') return 'a table';
    return article(describeType(a));
  }).join(' or ');
}

function literalLabel(e: Expression): string | undefined {
  switch (e.type) {
    case 'StringLiteral': return `the string ${e.raw}`;
    case 'NumericLiteral': return `the number ${e.raw}`;
    case 'BooleanLiteral': return e.raw;
    case 'NilLiteral': return 'nil';
    case 'TableConstructorExpression': return 'a table';
    case 'FunctionDeclaration': return 'a function';
    default: return undefined;
  }
}

function accepts(t: LuaType, ...names: string[]): boolean {
  return alternatives(t).some((a) => a.kind === 'prim' && (a.name === 'any' || names.includes(a.name)));
}

/** Checks a literal against the type it must have (recursing into option tables). */
export function checkValue(e: Expression, t: LuaType, what: string, optional: boolean, out: Collector): void {
  const lit = literalLabel(e);
  if (!lit || t.kind === 'unknown') return;
  const mismatch = (hint: string) => out.add(span(e), 'arg-type', `${what} must be ${expectedLabel(t)}, got ${lit}: ${hint}`);
  switch (e.type) {
    case 'StringLiteral': {
      if (accepts(t, 'string', 'bytes')) return;
      const value = stringValue(e) ?? '';
      if (accepts(t, 'duration')) {
        if (parseDurationText(value) === undefined) out.add(span(e), 'bad-duration', `${what}: "${value}" is not a duration: write ${DURATION_HELP}`);
        return;
      }
      if (accepts(t, 'size')) {
        if (parseSizeText(value) === undefined) out.add(span(e), 'bad-size', `${what}: "${value}" is not a size: write ${SIZE_HELP}`);
        return;
      }
      if (accepts(t, 'number', 'integer')) return mismatch('remove the quotes');
      return mismatch(`pass ${expectedLabel(t)}`);
    }
    case 'NumericLiteral':
      if (accepts(t, 'number', 'duration', 'size')) return;
      if (accepts(t, 'integer')) {
        if (!Number.isInteger(e.value)) mismatch('use a whole number');
        return;
      }
      if (accepts(t, 'string', 'bytes')) return mismatch(`write it in quotes ("${e.raw}")`);
      return mismatch(`pass ${expectedLabel(t)}`);
    case 'BooleanLiteral':
      if (!accepts(t, 'boolean')) mismatch(`pass ${expectedLabel(t)}`);
      return;
    case 'NilLiteral':
      if (!optional && !accepts(t, 'nil')) mismatch(`pass ${expectedLabel(t)}`);
      return;
    case 'FunctionDeclaration':
      if (!accepts(t, 'function')) mismatch(`pass ${expectedLabel(t)}`);
      return;
    case 'TableConstructorExpression': {
      const alts = alternatives(t);
      const rec = alts.find((a) => a.kind === 'record');
      const list = alts.find((a) => a.kind === 'list');
      if (!rec && !list && !accepts(t, 'table') && !alts.some((a) => a.kind === 'map')) return mismatch(`pass ${expectedLabel(t)}`);
      const spec = rec?.kind === 'record' ? recordSpec(rec.name) : undefined;
      const keyed = e.fields.some((f) => f.type !== 'TableValue');
      if (spec && (keyed || !list)) checkRecord(e, spec, out);
      else if (list?.kind === 'list') for (const f of e.fields) if (f.type === 'TableValue') checkValue(f.value, list.of, `an element of ${what}`, false, out);
      return;
    }
  }
}

function checkRecord(e: TableConstructorExpression, spec: RecordSpec, out: Collector): void {
  for (const f of e.fields) {
    if (f.type !== 'TableKeyString') continue;
    const field = spec.fields.find((x) => x.name === f.key.name);
    if (!field) {
      if (!spec.open) {
        const hint = didYouMean(f.key.name, spec.fields.map((x) => x.name));
        out.add(span(f.key), 'unknown-key', `'${f.key.name}' is not an option of ${spec.name}${hint ? `: ${hint}` : ''}`);
      }
      continue;
    }
    checkValue(f.value, schemaType(field.type), `${spec.name}.${field.name}`, !!field.optional, out);
  }
}
