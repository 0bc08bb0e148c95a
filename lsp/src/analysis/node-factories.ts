/**
 * luaparse's node factories (`luaparse.ast`, which its README documents as
 * the place to customise the AST), replaced by ones whose objects have a slot
 * for every property the nodes ever get. luaparse's own return the node's
 * fields only; `range` (attached after the factory) and our `from` / `to`
 * (parse.ts) then went to an out-of-object property array per node: a third
 * of the trees' memory with the whole workspace open. The fields are the
 * same, in the same order; `range` stays undefined once parse.ts has read it.
 */
import luaparse from 'luaparse';

type Any = never;
type Factory = (...args: Any[]) => object;

interface LuaparseInternals {
  ast: Record<string, Factory>;
  tokenTypes: Record<string, number>;
}

const lp = luaparse as unknown as LuaparseInternals;

const LITERALS = new Map<number, string>([
  [lp.tokenTypes.StringLiteral, 'StringLiteral'],
  [lp.tokenTypes.NumericLiteral, 'NumericLiteral'],
  [lp.tokenTypes.BooleanLiteral, 'BooleanLiteral'],
  [lp.tokenTypes.NilLiteral, 'NilLiteral'],
]);

// Each literal ends with the three position slots (see above).
const SHAPED: Record<string, Factory> = {
  labelStatement: (label) => ({ type: 'LabelStatement', label, range: undefined, from: 0, to: 0 }),
  breakStatement: () => ({ type: 'BreakStatement', range: undefined, from: 0, to: 0 }),
  gotoStatement: (label) => ({ type: 'GotoStatement', label, range: undefined, from: 0, to: 0 }),
  returnStatement: (args) => ({ type: 'ReturnStatement', arguments: args, range: undefined, from: 0, to: 0 }),
  ifStatement: (clauses) => ({ type: 'IfStatement', clauses, range: undefined, from: 0, to: 0 }),
  ifClause: (condition, body) => ({ type: 'IfClause', condition, body, range: undefined, from: 0, to: 0 }),
  elseifClause: (condition, body) => ({ type: 'ElseifClause', condition, body, range: undefined, from: 0, to: 0 }),
  elseClause: (body) => ({ type: 'ElseClause', body, range: undefined, from: 0, to: 0 }),
  whileStatement: (condition, body) => ({ type: 'WhileStatement', condition, body, range: undefined, from: 0, to: 0 }),
  doStatement: (body) => ({ type: 'DoStatement', body, range: undefined, from: 0, to: 0 }),
  repeatStatement: (condition, body) => ({ type: 'RepeatStatement', condition, body, range: undefined, from: 0, to: 0 }),
  localStatement: (variables, init) => ({ type: 'LocalStatement', variables, init, range: undefined, from: 0, to: 0 }),
  assignmentStatement: (variables, init) => ({ type: 'AssignmentStatement', variables, init, range: undefined, from: 0, to: 0 }),
  callStatement: (expression) => ({ type: 'CallStatement', expression, range: undefined, from: 0, to: 0 }),
  functionStatement: (identifier, parameters, isLocal, body) =>
    ({ type: 'FunctionDeclaration', identifier, isLocal, parameters, body, range: undefined, from: 0, to: 0 }),
  forNumericStatement: (variable, start, end, step, body) =>
    ({ type: 'ForNumericStatement', variable, start, end, step, body, range: undefined, from: 0, to: 0 }),
  forGenericStatement: (variables, iterators, body) =>
    ({ type: 'ForGenericStatement', variables, iterators, body, range: undefined, from: 0, to: 0 }),
  chunk: (body) => ({ type: 'Chunk', body, range: undefined, from: 0, to: 0 }),
  identifier: (name) => ({ type: 'Identifier', name, range: undefined, from: 0, to: 0 }),
  literal: (type: number, value, raw) => ({ type: LITERALS.get(type) ?? 'VarargLiteral', value, raw, range: undefined, from: 0, to: 0 }),
  tableKey: (key, value) => ({ type: 'TableKey', key, value, range: undefined, from: 0, to: 0 }),
  tableKeyString: (key, value) => ({ type: 'TableKeyString', key, value, range: undefined, from: 0, to: 0 }),
  tableValue: (value) => ({ type: 'TableValue', value, range: undefined, from: 0, to: 0 }),
  tableConstructorExpression: (fields) => ({ type: 'TableConstructorExpression', fields, range: undefined, from: 0, to: 0 }),
  binaryExpression: (operator: string, left, right) => ({
    type: operator === 'and' || operator === 'or' ? 'LogicalExpression' : 'BinaryExpression', operator, left, right, range: undefined, from: 0, to: 0,
  }),
  unaryExpression: (operator, argument) => ({ type: 'UnaryExpression', operator, argument, range: undefined, from: 0, to: 0 }),
  memberExpression: (base, indexer, identifier) => ({ type: 'MemberExpression', indexer, identifier, base, range: undefined, from: 0, to: 0 }),
  indexExpression: (base, index) => ({ type: 'IndexExpression', base, index, range: undefined, from: 0, to: 0 }),
  callExpression: (base, args) => ({ type: 'CallExpression', base, arguments: args, range: undefined, from: 0, to: 0 }),
  tableCallExpression: (base, args) => ({ type: 'TableCallExpression', base, arguments: args, range: undefined, from: 0, to: 0 }),
  stringCallExpression: (base, argument) => ({ type: 'StringCallExpression', base, argument, range: undefined, from: 0, to: 0 }),
};

/** Installs the factories into luaparse (parse.ts, before it parses anything; luaparse's comment factory stays: comments are off). */
export function installNodeFactories(): void {
  Object.assign(lp.ast, SHAPED);
}
