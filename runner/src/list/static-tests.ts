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

function metaOf(node: Node | undefined): { slow: boolean; tags: string[] } {
  const out = { slow: false, tags: [] as string[] };
  if (!node || node.type !== 'TableConstructorExpression') return out;
  for (const f of node.fields as Node[]) {
    if (f.type !== 'TableKeyString') continue;
    const key = (f.key as Node).name;
    const value = f.value as Node;
    if (key === 'slow') out.slow = value.type === 'BooleanLiteral' && value.value === true;
    if (key === 'tags' && value.type === 'TableConstructorExpression') {
      for (const t of value.fields as Node[]) {
        const s = stringValue(t.value as Node);
        if (s !== undefined) out.tags.push(s);
      }
    }
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
        const meta = args.length >= 3 ? metaOf(args[1]) : { slow: false, tags: [] };
        tests.push({ name: stringValue(args[0]), line: (node.loc as { start: { line: number } }).start.line, ...meta });
      },
    });
  } catch (e) {
    const err = e as Error & { line?: number };
    return { tests, syntaxError: `${display}:${err.line ?? 1}: ${err.message.replace(/^\[\d+:\d+\] /, '')}` };
  }
  return { tests: tests.sort((a, b) => a.line - b.line) };
}
