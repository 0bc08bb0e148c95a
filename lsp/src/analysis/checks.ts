/**
 * Diagnostics. Each problem has an exact range and a message that says what
 * to do. Per-segment problems are relative to the segment's `base` (so they
 * survive edits elsewhere in the file and can be cached); document-level
 * problems (fixture returns and cycles, a return that is not last) are absolute.
 */
import type { FunctionSpec } from '@provium/types';
import { classSpec, NOT_AVAILABLE, schemaType, signaturesOf } from './api-model.js';
import { span, callArgs, isCall, type CallNode, type Expression, type Node } from './ast.js';
import { openBlocks } from './brackets.js';
import { stringRole } from './callee.js';
import type { DocAnalysis } from './doc-analysis.js';
import { memberOf, stringValue, typeOf, type InferCtx } from './infer.js';
import { alternatives, describeType, type Source } from './lua-types.js';
import type { Segment } from './segments.js';
import { lookup, type Placed, type Scope } from './scope.js';
import { didYouMean } from './suggest.js';
import { lex } from './tokens.js';
import { checkValue } from './check-values.js';
import { Collector, type Problem } from './problems.js';

/** Problems of one segment, relative to `seg.base`. */
export function checkSegment(a: DocAnalysis, index: number): Problem[] {
  const seg = a.doc.segments[index];
  if (!seg.body) return [syntaxProblem(a, seg)];
  const out = new Collector();
  const ctx = a.ctx;
  const text = a.doc.text;
  a.walkSegment(index, (node, scope, parent) => {
    const source = a.sourceOf(seg);
    if (isCall(node)) checkCall(node, scope, source, ctx, out, text);
    else if (node.type === 'MemberExpression' && node.indexer === '.' && !(parent && isCall(parent) && parent.base === node)) {
      const assigned = parent?.type === 'AssignmentStatement' && parent.variables.includes(node);
      if (!assigned) checkFieldRead(node, scope, source, ctx, out);
    } else if (node.type === 'AssignmentStatement') checkSettings(node, scope, source, ctx, out);
  });
  return out.problems;
}

function unknownMember(owner: string, name: string, candidates: string[], indexer: string): string {
  const kind = indexer === ':' ? 'method' : 'field';
  const hint = didYouMean(name, candidates);
  return `${owner} has no ${kind} '${name}'${hint ? `: ${hint}` : ''}`;
}

function checkCall(call: CallNode, scope: Scope, source: Source, ctx: InferCtx, out: Collector, text: string): void {
  const base = call.base;
  const args = callArgs(call);
  if (base.type === 'MemberExpression') {
    const recv = typeOf(base.base, scope, source, ctx);
    const name = base.identifier.name;
    const r = memberOf(recv, name, base.indexer, ctx);
    const recvText = text.slice(source.base + base.base.from, source.base + base.base.to);
    if (base.indexer === ':') {
      if (r.kind === 'missing') {
        const msg = r.other === 'field'
          ? `'${name}' is a field of ${r.owner}, not a method: read it as ${recvText}.${name} (no ':' and no parentheses)`
          : unknownMember(r.owner, name, r.candidates, ':');
        out.add(span(base.identifier), 'unknown-member', msg);
        return;
      }
      if (r.kind === 'found' && r.method) {
        if (r.method.status === 'planned') {
          out.add(span(base.identifier), 'not-available', `${r.owner}:${name}() is ${NOT_AVAILABLE}: it is in the API contract but the runtime does not implement it, so this line raises when it runs`, 'warning');
        }
        checkArgs(r.method, `${r.owner}:${name}`, call, args, scope, source, ctx, out, text);
      }
      return;
    }
    if (r.kind === 'missing' && r.other === 'method') {
      const dot = findChar(text, source.base + base.base.to, source.base + base.identifier.from, '.') - source.base;
      out.add([dot, base.identifier.to], 'dot-call',
        `'${name}' is a method of ${r.owner}: call it with ':' (${recvText}:${name}(...)), which passes ${recvText} as self; with '.' it gets no self`,
        'error', { title: `Use ':' (${recvText}:${name})`, edits: [{ start: dot, end: dot + 1, newText: ':' }] });
      return;
    }
    if (r.kind === 'missing') out.add(span(base.identifier), 'unknown-member', unknownMember(r.owner, name, r.candidates, '.'));
    return;
  }
  if (base.type === 'Identifier' && !lookup(scope, base.name)) {
    const t = typeOf(base, scope, source, ctx);
    if (t.kind === 'api') checkArgs(t.spec, t.spec.name, call, args, scope, source, ctx, out, text);
    else if (base.name === 'require') checkArgs(undefined, 'require', call, args, scope, source, ctx, out, text);
  }
}

function findChar(text: string, from: number, to: number, ch: string): number {
  const i = text.indexOf(ch, from);
  return i >= 0 && i < to ? i : from;
}

function checkFieldRead(node: Expression & { type: 'MemberExpression' }, scope: Scope, source: Source, ctx: InferCtx, out: Collector): void {
  const r = memberOf(typeOf(node.base, scope, source, ctx), node.identifier.name, '.', ctx);
  if (r.kind === 'missing' && r.other !== 'method') out.add(span(node.identifier), 'unknown-member', unknownMember(r.owner, node.identifier.name, r.candidates, '.'));
  else if (r.kind === 'found' && r.field?.status === 'planned') {
    out.add(span(node.identifier), 'not-available', `${r.owner}.${r.field.name} is ${NOT_AVAILABLE}: the runtime does not provide it yet`, 'warning');
  }
}

/** `provium.<key> = value`: only the file settings exist. */
function checkSettings(stmt: Node & { type: 'AssignmentStatement' }, scope: Scope, source: Source, ctx: InferCtx, out: Collector): void {
  stmt.variables.forEach((v, i) => {
    if (v.type !== 'MemberExpression' || v.indexer !== '.') return;
    const recv = typeOf(v.base, scope, source, ctx);
    if (!(recv.kind === 'class' && recv.name === 'Lab' && recv.lab?.root)) return;
    const lab = classSpec('Lab')!;
    const writable = lab.fields.filter((f) => f.writable);
    const f = writable.find((x) => x.name === v.identifier.name);
    if (!f) {
      const hint = didYouMean(v.identifier.name, writable.map((x) => x.name));
      out.add(span(v.identifier), 'unknown-setting', `provium.${v.identifier.name} is not a file setting (setting it raises)${hint.startsWith('did') ? `: ${hint}` : ''}; the settings are ${writable.map((x) => x.name).join(', ')}`);
      return;
    }
    if (f.status === 'planned') out.add(span(v.identifier), 'not-available', `provium.${f.name} is ${NOT_AVAILABLE}: the runtime does not implement this setting`, 'warning');
    if (stmt.init[i]) checkValue(stmt.init[i], schemaType(f.type), `provium.${f.name}`, false, out);
  });
}

function countLabel(n: number): string {
  return n === 1 ? '1 argument' : `${n} arguments`;
}

function checkArgs(spec: FunctionSpec | undefined, label: string, call: CallNode, args: Expression[], scope: Scope, source: Source, ctx: InferCtx, out: Collector, text: string): void {
  if (spec) {
    const sigs = signaturesOf(spec);
    const n = args.length;
    const last = args[n - 1];
    const open = !!last && (isCall(last) || last.type === 'VarargLiteral');
    const fits = (s: (typeof sigs)[number]) => {
      const required = s.params.filter((p) => !p.optional).length;
      return (n >= required || open) && (n <= s.params.length || (open && n - 1 <= s.params.length));
    };
    const sig = sigs.find((s) => s.params.length === n && fits(s)) ?? sigs.find(fits);
    if (!sig) {
      const minRequired = Math.min(...sigs.map((s) => s.params.filter((p) => !p.optional).length));
      const max = Math.max(...sigs.map((s) => s.params.length));
      const argsRange = argListRange(call, text, source);
      if (n < minRequired) {
        const best = sigs.find((s) => s.params.filter((p) => !p.optional).length === minRequired)!;
        const missing = best.params.filter((p) => !p.optional).slice(n).map((p) => `${p.name}: ${p.type}`);
        out.add(argsRange, 'arg-count', `${label}() expects at least ${countLabel(minRequired)}, got ${n}: pass ${missing.join(', ')}`);
      } else {
        const extra = args.slice(max);
        const range: [number, number] = extra.length ? [extra[0].from, extra[extra.length - 1].to] : argsRange;
        out.add(range, 'arg-count', max === 0 ? `${label}() takes no arguments, got ${n}: remove them` : `${label}() takes at most ${countLabel(max)}, got ${n}: remove the extra ${n - max === 1 ? 'argument' : 'arguments'}`);
      }
      return;
    }
    sig.params.forEach((p, i) => {
      if (args[i]) checkValue(args[i], schemaType(p.type), `argument ${i + 1} (${p.name}) of ${label}()`, !!p.optional, out);
    });
  }
  args.forEach((arg, i) => {
    const value = stringValue(arg);
    if (value === undefined) return;
    const role = stringRole(call, i, scope, source, ctx);
    if (role === 'profile') checkProfile(value, span(arg), ctx, out);
    else if (role === 'vm_fixture' || role === 'lab_fixture') checkFixtureRef(value, role, span(arg), call, ctx, out);
    else if (role === 'module') checkModule(value, span(arg), ctx, out);
  });
}

/** The range of `(...)` of a call, or the whole call. */
function argListRange(call: CallNode, text: string, source: Source): [number, number] {
  const open = text.indexOf('(', source.base + call.base.to) - source.base;
  return call.type === 'CallExpression' && open >= call.base.to && open < call.to ? [open, call.to] : span(call);
}

function checkProfile(name: string, range: [number, number], ctx: InferCtx, out: Collector): void {
  const profiles = ctx.project.profiles();
  if (profiles.includes(name)) return;
  const hint = didYouMean(name, profiles, '"');
  out.add(range, 'unknown-profile', `unknown profile "${name}"${hint.startsWith('did') ? `: ${hint}` : ''}; the profiles are ${profiles.map((p) => `"${p}"`).join(', ')}: add [profiles.${name}] to provium.toml or use one of them`);
}

function checkFixtureRef(name: string, method: 'vm_fixture' | 'lab_fixture', range: [number, number], call: CallNode, ctx: InferCtx, out: Collector): void {
  const f = ctx.project.fixture(name);
  const wanted = method === 'vm_fixture' ? 'vm' : 'lab';
  if (!f) {
    const all = ctx.project.fixtureNames();
    const sameKind = all.filter((n) => ctx.project.fixture(n)?.kind === wanted);
    const hint = didYouMean(name, all, '"');
    out.add(range, 'unknown-fixture', `no fixture named "${name}" under ${ctx.project.rootsLabel()}${hint.startsWith('did') ? `: ${hint}` : ''}; a fixture is a *.fixture.lua file named by its path under a root without the suffix${sameKind.length ? ` (${wanted} fixtures: ${sameKind.slice(0, 8).join(', ')})` : ''}`);
    return;
  }
  if (f.kind === 'none') {
    out.add(range, 'fixture-return', `fixture "${name}" does not return a snapshot, so it cannot be resumed: fix ${name}.fixture.lua to end with a return of vm:snapshot() or provium:snapshot()`);
    return;
  }
  if (f.kind === 'unknown' || f.kind === wanted) return;
  const right = method === 'vm_fixture' ? 'lab_fixture' : 'vm_fixture';
  const what = f.kind === 'lab' ? 'a lab fixture (it returns a LabSnapshot)' : 'a single-VM fixture (it returns a VM Snapshot)';
  const base = call.base;
  const fix = base.type === 'MemberExpression' ? { title: `Use ${right}("${name}")`, edits: [{ start: base.identifier.from, end: base.identifier.to, newText: right }] } : undefined;
  out.add(range, 'wrong-fixture-kind', `"${name}" is ${what}: resume it with ${right}("${name}")`, 'error', fix);
}

function checkModule(name: string, range: [number, number], ctx: InferCtx, out: Collector): void {
  if (ctx.project.module(name)) return;
  const hint = didYouMean(name, ctx.project.moduleNames(), '"');
  out.add(range, 'unknown-module', `cannot find module "${name}": looked for ${ctx.project.modulePaths(name).join(', ')}${hint.startsWith('did') ? `; ${hint}` : ''}: create the file or fix the name`);
}

/** The syntax error of a broken segment, placed where the code is actually wrong. */
export function syntaxProblem(a: DocAnalysis, seg: Segment): Problem {
  const err = seg.error!;
  const text = a.doc.text.slice(seg.start, seg.start + seg.length);
  const toks = lex(text).tokens;
  const at = toks.find((t) => t.end > err.index);
  const before = [...toks].reverse().find((t) => t.end <= err.index);
  const startLine = a.doc.lines.lineOf(seg.start);
  let message = err.message.replace(/\(starting at line (\d+)\)/, (_, n) => `(starting at line ${Number(n) + startLine})`);
  const expected = /expected|<eof>|missing/.test(message);
  let range: [number, number] = expected && before ? [before.start, before.end] : at ? [at.start, at.end] : [err.index, Math.min(err.index + 1, text.length)];
  let hint = 'fix or remove the code here';
  const endMissing = /^'end' expected/.test(message);
  if (endMissing) {
    const opener = openBlocks(toks.filter((t) => t.start < err.index)).reverse().find((b) => b.closer === 'end');
    if (opener) {
      const line = a.doc.lines.lineOf(seg.start + opener.opener.start) + 1;
      message = message.replace(/^'end' expected/, `'end' expected to close the '${opener.opener.text}' on line ${line}`);
    }
    hint = 'add the missing end';
  } else if (/^'\)' expected/.test(message)) hint = 'close the parenthesis';
  else if (/^'\}' expected|missing '\}'/.test(message)) hint = 'close the table with }';
  else if (/<name> expected/.test(message)) hint = 'write a name here, or remove the dangling . or :';
  else if (/function arguments expected/.test(message)) hint = 'a method is called with parentheses: add (...)';
  else if (/unfinished string/.test(message)) hint = 'close the string with its quote';
  else if (/^unexpected symbol near '<eof>'|expected near '<eof>'/.test(message)) hint = 'complete the statement';
  else if (/^unexpected/.test(message)) hint = 'remove it, or complete the code before it';
  message = message.replace(/near '<eof>'/, 'at the end of the statement');
  if (range[1] <= range[0]) range = [range[0], range[0] + 1];
  return { start: range[0], end: range[1], severity: 'error', code: 'syntax', message: `Syntax error: ${message}: ${hint}` };
}

/** Problems that need the whole file (`top`: its `a.topLevel()`): a top-level return not at the end; a fixture's return value and dependency cycles. */
export function checkDocument(a: DocAnalysis, top: Placed[]): Problem[] {
  const out: Problem[] = [];
  const doc = a.doc;
  const ctx = a.ctx;
  const absolute = (source: Source, r: [number, number]): [number, number] => [source.base + r[0], source.base + r[1]];
  top.forEach((p, k) => {
    if (p.stmt.type === 'ReturnStatement' && k < top.length - 1) {
      const [s, e] = absolute(p.source, span(p.stmt));
      out.push({ start: s, end: e, severity: 'error', code: 'syntax', message: "Syntax error: code after a top-level 'return' never runs: move the return to the end of the file" });
    }
  });
  if (doc.kind !== 'fixture') return out;
  const name = ctx.project.fixtureNameOf(doc.uri) ?? doc.uri.replace(/^.*\//, '').replace(/\.fixture\.lua$/, '');
  const ret = [...top].reverse().find((p) => p.stmt.type === 'ReturnStatement');
  const howTo = 'end the file with "return vm:snapshot()" (a single-VM fixture) or "return provium:snapshot()" (a lab fixture)';
  if (!ret) {
    if (doc.broken.length === 0) {
      const last = top.at(-1);
      const r = last ? absolute(last.source, span(last.stmt)) : [0, 0] as [number, number];
      out.push({ start: r[0], end: r[1], severity: 'error', code: 'fixture-return', message: `fixture "${name}" does not return a snapshot: ${howTo}` });
    }
  } else if (ret.stmt.type === 'ReturnStatement') {
    const arg = ret.stmt.arguments[0];
    const t = arg ? typeOf(arg, ret.scope, ret.source, ctx) : undefined;
    const ok = t && (t.kind === 'unknown' || alternatives(t).some((x) => x.kind === 'class' && (x.name === 'Snapshot' || x.name === 'LabSnapshot')));
    if (!ok) {
      const r = absolute(ret.source, span(arg ?? ret.stmt));
      out.push({ start: r[0], end: r[1], severity: 'error', code: 'fixture-return', message: `fixture "${name}" returns ${t ? describeType(t) : 'nothing'} instead of a snapshot: ${howTo}` });
    }
  }
  const self = ctx.project.fixture(name);
  for (const dep of self?.deps ?? []) {
    const cycle = pathTo(dep.name, name, ctx, new Set());
    if (!cycle || dep.loc.source.uri !== doc.uri) continue;
    const r = absolute(dep.loc.source, dep.loc.range);
    out.push({ start: r[0], end: r[1], severity: 'error', code: 'fixture-cycle', message: `fixture dependency cycle: ${[name, ...cycle].join(' → ')}: a fixture cannot resume itself, directly or through other fixtures; remove one of these references` });
  }
  return out;
}

/** Fixture names from `from` to `to` along dependencies, or undefined. */
function pathTo(from: string, to: string, ctx: InferCtx, seen: Set<string>): string[] | undefined {
  if (from === to) return [to];
  if (seen.has(from)) return undefined;
  seen.add(from);
  for (const d of ctx.project.fixture(from)?.deps ?? []) {
    const rest = pathTo(d.name, to, ctx, seen);
    if (rest) return [from, ...rest];
  }
  return undefined;
}
