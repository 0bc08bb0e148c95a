/** Signature help while typing the arguments of a call, also in unfinished code (`vm:run(`). */
import { MarkupKind, type Position, type SignatureHelp, type SignatureInformation } from 'vscode-languageserver';
import { NOT_AVAILABLE, paramLabel, signaturesOf } from '../analysis/api-model.js';
import { callArgs, isCall, type CallNode } from '../analysis/ast.js';
import { literalFits, resolveCallee } from '../analysis/callee.js';
import type { SourceDoc } from '../analysis/document.js';
import { findInTree, parsePatched, PLACEHOLDER } from '../analysis/recovery.js';
import { toOffset } from '../positions.js';
import type { Project } from '../project/workspace.js';

/** A signature with parameter label offsets, so clients can highlight the active one. */
function info(head: string, params: string[], returns: string | undefined, doc: string): SignatureInformation {
  let label = `${head}(`;
  const parameters = params.map((p, i) => {
    const start = label.length;
    label += p + (i < params.length - 1 ? ', ' : '');
    return { label: [start, start + p.length] as [number, number] };
  });
  label += ')' + (returns && returns !== 'nil' ? `: ${returns}` : '');
  return { label, parameters, documentation: { kind: MarkupKind.Markdown, value: doc } };
}

export function signatureHelp(project: Project, doc: SourceDoc, pos: Position): SignatureHelp | null {
  const offset = toOffset(doc, pos);
  const a = project.analysis(doc);
  const p = parsePatched(a, offset, [PLACEHOLDER, '', `${PLACEHOLDER}()`]);
  if (!p) return null;
  const rel = offset - p.source.base;
  const hit = findInTree(p.body, p.entry, p.source, rel);
  if (!hit) return null;
  // The innermost call whose parentheses hold the cursor.
  let call: CallNode | undefined;
  for (let k = hit.path.length - 1; k >= 0 && !call; k--) {
    const n = hit.path[k];
    if (isCall(n) && n.base.to < rel) call = n;
  }
  if (!call) return null;
  const args = callArgs(call);
  let active = args.findIndex((arg) => arg.from <= rel && rel <= arg.to);
  if (active < 0) active = args.filter((arg) => arg.to < rel).length;
  const callee = resolveCallee(call, hit.scope, hit.source, a.ctx);
  if (!callee) return null;
  if (callee.kind === 'local') {
    return { signatures: [info(callee.fn.name ?? 'function', callee.fn.params, undefined, '')], activeSignature: 0, activeParameter: active };
  }
  const spec = callee.spec;
  const head = callee.owner ? `${callee.owner}:${spec.name}` : spec.name;
  const status = spec.status === 'planned' ? `\n\n**${NOT_AVAILABLE}**` : '';
  const sigs = signaturesOf(spec);
  const signatures = sigs.map((s) => info(head, s.params.map(paramLabel), s.returns, s.doc + status));
  // The first signature long enough whose parameters the literal arguments typed so far fit.
  const fits = sigs.findIndex((s) => s.params.length > active && args.every((arg, i) => !s.params[i] || literalFits(arg, s.params[i].type)));
  const long = sigs.findIndex((s) => s.params.length > active);
  return { signatures, activeSignature: Math.max(0, fits >= 0 ? fits : long), activeParameter: active };
}
