/**
 * The bindings as an editor sees them, through TypeScript's own language
 * service over the runner's project (sources of referenced projects, as
 * tsserver loads them): from each member of a generated interface in types/,
 * "Go to Implementation" lands on its code in api/; and every implementation
 * that returns a Promise is `async`, so the runtime checks that Lua may wait
 * before the implementation sends anything.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API } from '@provium/types';
import ts from 'typescript';
import { beforeAll, describe, expect, test } from 'vitest';

const repo = path.resolve(fileURLToPath(import.meta.url), '../../../../..');
const generated = path.join(repo, 'types/src/api/bindings.generated.ts');
const apiDir = path.join(repo, 'runner/src/worker/api') + path.sep;

let ls: ts.LanguageService;

beforeAll(() => {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(repo, 'runner/tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  const files = parsed.fileNames.filter((f) => f.startsWith(apiDir));
  ls = ts.createLanguageService({
    getScriptFileNames: () => files,
    getScriptVersion: () => '1',
    getScriptSnapshot: (f) => (ts.sys.fileExists(f) ? ts.ScriptSnapshot.fromString(ts.sys.readFile(f)!) : undefined),
    getCurrentDirectory: () => repo,
    getCompilationSettings: () => parsed.options,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: ts.sys.fileExists,
    readFile: ts.sys.readFile,
    readDirectory: ts.sys.readDirectory,
    directoryExists: ts.sys.directoryExists,
    getDirectories: ts.sys.getDirectories,
    realpath: ts.sys.realpath,
    getProjectReferences: () => parsed.projectReferences,
    useSourceOfProjectReferenceRedirect: () => true,
  });
}, 60_000);

/** Position of `name:` inside the `section` block of interface `<cls>Binding` in the generated file. */
function memberPosition(text: string, cls: string, section: 'methods' | 'fields', name: string): number {
  const start = text.indexOf(`export interface ${cls}Binding `);
  const block = text.indexOf(`  ${section}: {\n`, start);
  const at = text.indexOf(`\n    ${name}: `, block);
  expect(start >= 0 && block >= 0 && at >= 0 && at < text.indexOf('\n}\n', start), `${cls}.${section}.${name} in the generated file`).toBe(true);
  return at + 5;
}

/** The property of an object literal whose name starts at `pos`. */
function propertyAt(sf: ts.SourceFile, pos: number): ts.PropertyAssignment | undefined {
  let found: ts.PropertyAssignment | undefined;
  const visit = (n: ts.Node) => {
    if (ts.isPropertyAssignment(n) && n.name.getStart(sf) === pos) found = n;
    else if (n.pos <= pos && pos < n.end) ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

describe('the bindings in api/ implement the schema', () => {
  const text = ts.sys.readFile(generated)!;
  const members = API.classes.flatMap((c) => [
    ...c.methods.filter((m) => m.status === 'available').map((m) => ({ cls: c.name, section: 'methods' as const, name: m.name })),
    ...c.fields.filter((f) => f.status === 'available').map((f) => ({ cls: c.name, section: 'fields' as const, name: f.name })),
  ]);

  test('Go to Implementation on every member of a generated interface lands on its code in api/', () => {
    expect(members.length).toBeGreaterThan(50);
    for (const m of members) {
      const found = ls.getImplementationAtPosition(generated, memberPosition(text, m.cls, m.section, m.name)) ?? [];
      const where = `${m.cls}.${m.section}.${m.name}`;
      expect(found.map((f) => f.fileName), where).toHaveLength(1);
      expect(found[0].fileName.startsWith(apiDir), `${where}: ${found[0].fileName}`).toBe(true);
      const source = ls.getProgram()!.getSourceFile(found[0].fileName)!;
      expect(source.text.slice(found[0].textSpan.start, found[0].textSpan.start + m.name.length), where).toBe(m.name);
    }
  });

  test('every method implementation that returns a Promise is async (the runtime checks that Lua may wait before calling those)', () => {
    const checker = ls.getProgram()!.getTypeChecker();
    const notAsync: string[] = [];
    let promises = 0;
    for (const m of members.filter((x) => x.section === 'methods')) {
      const [impl] = ls.getImplementationAtPosition(generated, memberPosition(text, m.cls, m.section, m.name)) ?? [];
      const sf = ls.getProgram()!.getSourceFile(impl.fileName)!;
      const init = propertyAt(sf, impl.textSpan.start)?.initializer;
      if (!init || !(ts.isArrowFunction(init) || ts.isFunctionExpression(init))) continue; // { raw: ... }
      const returned = checker.getSignaturesOfType(checker.getTypeAtLocation(init), ts.SignatureKind.Call)[0].getReturnType();
      const thenable = [returned, ...(returned.isUnion() ? returned.types : [])].some((t) => t.getProperty('then') !== undefined);
      if (!thenable) continue;
      promises++;
      if (!(ts.getCombinedModifierFlags(init) & ts.ModifierFlags.Async)) notAsync.push(`${m.cls}:${m.name} (${impl.fileName})`);
    }
    expect(promises).toBeGreaterThan(30);
    expect(notAsync).toEqual([]);
  });
});
