/**
 * Discovery: test files (`*.test.lua`) and fixtures (`*.fixture.lua`) under
 * the roots, or under the paths given on the command line. Fixtures are named
 * by their path relative to their root, without `.fixture.lua`.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { ROOTS_ADVICE } from '@provium/types';
import type { ResolvedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { walkLuaFiles } from './walk.js';

export interface TestFile {
  /** Absolute path. */
  path: string;
  /** As shown to the user: relative to the working directory, forward slashes. */
  display: string;
}

export interface Fixture {
  name: string;
  path: string;
}

export interface Discovery {
  tests: TestFile[];
  fixtures: Fixture[];
  /** Absolute roots: `require` searches them. */
  roots: string[];
}

const TEST_SUFFIX = '.test.lua';
const FIXTURE_SUFFIX = '.fixture.lua';

const toDisplay = (cwd: string, p: string) => path.relative(cwd, p).split(path.sep).join('/') || '.';

/** Walks a root or a given directory: `given` when it comes from the command line. */
function walk(dir: string, out: string[], config: ResolvedConfig, given: boolean): void {
  if (given) return walkLuaFiles(dir, out, dir, 'give the directories or files that hold your tests');
  if (config.file) return walkLuaFiles(dir, out, `${config.file}: [provium] roots`, ROOTS_ADVICE);
  walkLuaFiles(dir, out, `${dir} (no provium.toml, so the root is this directory)`, `run provium in your project's directory, or add a provium.toml and ${ROOTS_ADVICE}`);
}

function isDir(p: string): boolean | undefined {
  try {
    return statSync(p).isDirectory();
  } catch {
    return undefined;
  }
}

const within = (root: string, p: string) => p === root || p.startsWith(root + path.sep);

export function discover(paths: string[], config: ResolvedConfig, cwd: string): Discovery {
  const configRoots = config.roots.filter((r) => isDir(r));
  let roots: string[];
  let searched: string[];
  if (paths.length > 0) {
    searched = paths.map((p) => {
      const abs = path.resolve(cwd, p);
      const dir = isDir(abs);
      if (dir === undefined) throw new UsageError(`${p}: no such file or directory`);
      if (!dir && !abs.endsWith('.lua')) throw new UsageError(`${p}: not a Lua file; give *.test.lua files or directories`);
      return abs;
    });
    // A given path under a configured root uses that root; otherwise its own directory is a root.
    const extra = searched.filter((p) => !configRoots.some((r) => within(r, p))).map((p) => (isDir(p) ? p : path.dirname(p)));
    roots = [...new Set([...configRoots, ...extra])];
  } else {
    if (configRoots.length === 0) {
      if (config.file) {
        throw new UsageError(`${config.file}: none of the roots exists (${config.roots.map((r) => toDisplay(cwd, r)).join(', ')}); create it or fix [provium] roots`);
      }
      configRoots.push(cwd); // no provium.toml and no tests/: the working directory is the root
    }
    roots = configRoots;
    searched = configRoots;
  }

  const files = new Set<string>();
  for (const p of searched) {
    if (isDir(p)) {
      const found: string[] = [];
      walk(p, found, config, paths.length > 0);
      found.forEach((f) => files.add(f));
    } else files.add(p);
  }
  const sorted = [...files].sort();
  const tests = sorted.filter((f) => f.endsWith(TEST_SUFFIX)).map((f) => ({ path: f, display: toDisplay(cwd, f) }));
  // Fixtures are looked up by name across every root, whatever paths were given.
  const fixtureFiles = new Set<string>();
  for (const r of roots) {
    const found: string[] = [];
    walk(r, found, config, !configRoots.includes(r));
    found.filter((f) => f.endsWith(FIXTURE_SUFFIX)).forEach((f) => fixtureFiles.add(f));
  }
  const fixtures = [...fixtureFiles].sort().map((f) => {
    const root = roots.find((r) => within(r, f))!;
    return { name: path.relative(root, f).split(path.sep).join('/').slice(0, -FIXTURE_SUFFIX.length), path: f };
  });
  if (paths.length > 0) {
    for (const p of searched) {
      if (!isDir(p) && !p.endsWith(TEST_SUFFIX)) {
        throw new UsageError(`${toDisplay(cwd, p)}: not a test file (${p.endsWith(FIXTURE_SUFFIX) ? 'fixtures are built on demand, not run' : 'only *.test.lua files are run'})`);
      }
    }
  }
  return { tests, fixtures, roots };
}
