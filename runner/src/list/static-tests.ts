/**
 * The tests of a file as far as they are known without running it: literal
 * `test("name", [meta], fn)` calls found by luaparse. Used by `provium list`;
 * never executes user code.
 */
import { readFileSync } from 'node:fs';
import luaparse from 'luaparse';

export interface StaticTest {
  /** undefined when the name is not a literal string. */
  name: string | undefined;
  line: number;
  slow: boolean;
  tags: string[];
  /** The meta keys whose value is a literal string, number, boolean or list of them (for --tag-meta). */
  meta: Record<string, unknown>;
}

export interface StaticFile {
  tests: StaticTest[];
  /** `file:line: message` when the file does not parse. */
  syntaxError?: string;
}

type Node = { type: string; [k: string]: unknown };

/** The source is read as latin1 and parsed in pseudo-latin1 mode, so a literal's value holds its bytes: decode them as UTF-8. */
function stringValue(node: Node | undefined): string | undefined {
  if (!node || node.type !== 'StringLiteral' || typeof node.value !== 'string') return undefined;
  return Buffer.from(node.value, 'latin1').toString('utf8');
}

/** A literal string, number or boolean, or a list of them; undefined for anything else. */
function literal(node: Node): unknown {
  if (node.type === 'StringLiteral') return stringValue(node);
  if (node.type === 'NumericLiteral' || node.type === 'BooleanLiteral') return node.value;
  if (node.type !== 'TableConstructorExpression') return undefined;
  const fields = node.fields as Node[];
  if (!fields.every((f) => f.type === 'TableValue')) return undefined;
  const items = fields.map((f) => literal(f.value as Node));
  return items.every((i) => i !== undefined && !Array.isArray(i)) ? items : undefined;
}

type StaticMeta = Pick<StaticTest, 'slow' | 'tags' | 'meta'>;

function metaOf(node: Node | undefined): StaticMeta {
  const out: StaticMeta = { slow: false, tags: [], meta: {} };
  if (!node || node.type !== 'TableConstructorExpression') return out;
  for (const f of node.fields as Node[]) {
    if (f.type !== 'TableKeyString') continue;
    const key = (f.key as Node).name as string;
    const value = f.value as Node;
    if (key === 'slow') out.slow = value.type === 'BooleanLiteral' && value.value === true;
    if (key === 'tags' && value.type === 'TableConstructorExpression') {
      for (const t of value.fields as Node[]) {
        const s = stringValue(t.value as Node);
        if (s !== undefined) out.tags.push(s);
      }
    }
    const v = literal(value);
    if (v !== undefined) out.meta[key] = v;
  }
  return out;
}

export function staticTests(file: string, display: string): StaticFile {
  const tests: StaticTest[] = [];
  try {
    luaparse.parse(readFileSync(file, 'latin1'), {
      luaVersion: '5.3',
      encodingMode: 'pseudo-latin1',
      locations: true,
      onCreateNode(n) {
        const node = n as unknown as Node;
        if (node.type !== 'CallExpression') return;
        const base = node.base as Node;
        if (base.type !== 'Identifier' || base.name !== 'test') return;
        const args = node.arguments as Node[];
        const meta = args.length >= 3 ? metaOf(args[1]) : metaOf(undefined);
        tests.push({ name: stringValue(args[0]), line: (node.loc as { start: { line: number } }).start.line, ...meta });
      },
    });
  } catch (e) {
    const err = e as Error & { line?: number };
    return { tests, syntaxError: `${display}:${err.line ?? 1}: ${err.message.replace(/^\[\d+:\d+\] /, '')}` };
  }
  return { tests: tests.sort((a, b) => a.line - b.line) };
}
