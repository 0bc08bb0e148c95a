/**
 * luaparse's node types, with the offsets every node carries: `from` and `to`
 * (into the parsed text, end exclusive), moved by parse.ts out of the
 * `range: [from, to]` array luaparse attaches with `ranges: true` — that array
 * (plus its backing store) was half of the server's memory. The analysis
 * parses one top-level statement region at a time, so offsets are relative to
 * the start of that region (see segments.ts).
 */
import type * as lp from 'luaparse';

// Relative path: @types/luaparse declares its nodes in lib/ast, which a package name cannot reach under NodeNext.
declare module '../../../node_modules/@types/luaparse/lib/ast.js' {
  interface Base<TType extends string> {
    from: number;
    to: number;
  }
}

export type Node = lp.Node;
export type Statement = lp.Statement;
export type Expression = lp.Expression;
export type Identifier = lp.Identifier;
export type StringLiteral = lp.StringLiteral;
export type MemberExpression = lp.MemberExpression;
export type FunctionDeclaration = lp.FunctionDeclaration;
export type TableConstructorExpression = lp.TableConstructorExpression;
export type Chunk = lp.Chunk;

export type CallNode = lp.CallExpression | lp.StringCallExpression | lp.TableCallExpression;

/** A node's offsets as a pair (for locations and problem ranges). */
export function span(n: Node): [number, number] {
  return [n.from, n.to];
}

export function isCall(n: Node): n is CallNode {
  return n.type === 'CallExpression' || n.type === 'StringCallExpression' || n.type === 'TableCallExpression';
}

/** The arguments of any of the three call forms (`f(a)`, `f"s"`, `f{...}`). */
export function callArgs(c: CallNode): Expression[] {
  if (c.type === 'CallExpression') return c.arguments;
  if (c.type === 'StringCallExpression') return [c.argument];
  return [c.arguments];
}

/** The child nodes of `n` in source order (statements, expressions, clauses, table fields). */
export function childrenOf(n: Node): Node[] {
  switch (n.type) {
    case 'Chunk': case 'DoStatement': case 'ElseClause': return n.body;
    case 'LocalStatement': case 'AssignmentStatement': return [...n.variables, ...n.init];
    case 'CallStatement': return [n.expression];
    case 'ReturnStatement': return n.arguments;
    case 'IfStatement': return n.clauses;
    case 'IfClause': case 'ElseifClause': return [n.condition, ...n.body];
    case 'WhileStatement': return [n.condition, ...n.body];
    case 'RepeatStatement': return [...n.body, n.condition];
    case 'ForNumericStatement': return [n.variable, n.start, n.end, ...(n.step ? [n.step] : []), ...n.body];
    case 'ForGenericStatement': return [...n.variables, ...n.iterators, ...n.body];
    case 'FunctionDeclaration': return [...(n.identifier ? [n.identifier] : []), ...n.parameters, ...n.body];
    case 'TableConstructorExpression': return n.fields;
    case 'TableKey': return [n.key, n.value];
    case 'TableKeyString': return [n.key, n.value];
    case 'TableValue': return [n.value];
    case 'BinaryExpression': case 'LogicalExpression': return [n.left, n.right];
    case 'UnaryExpression': return [n.argument];
    case 'MemberExpression': return [n.base, n.identifier];
    case 'IndexExpression': return [n.base, n.index];
    case 'CallExpression': return [n.base, ...n.arguments];
    case 'StringCallExpression': return [n.base, n.argument];
    case 'TableCallExpression': return [n.base, n.arguments];
    case 'LabelStatement': case 'GotoStatement': return [n.label];
    default: return [];
  }
}
