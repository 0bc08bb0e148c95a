/**
 * provium.toml as the language server needs it: the roots (`[provium] roots`,
 * default ["tests"]) and the profile names (`[profiles.<name>]`, plus the
 * built-in "default"). A malformed file is reported, not fatal.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUILTIN_PROFILES, rootProblem } from '@provium/types';
import { parse, TomlError } from 'smol-toml';

export const CONFIG_FILE = 'provium.toml';
export const DEFAULT_ROOTS = ['tests'];

export interface ConfigProblem {
  message: string;
  /** Zero-based position in provium.toml. */
  line: number;
  character: number;
}

export interface ProjectConfig {
  dir: string;
  /** Path of provium.toml, when there is one. */
  file?: string;
  /** Roots as written (relative to `dir`). */
  roots: string[];
  rootDirs: string[];
  profiles: string[];
  problems: ConfigProblem[];
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export function loadConfig(dir: string): ProjectConfig {
  const file = join(dir, CONFIG_FILE);
  const base = (roots: string[], profiles: string[], problems: ConfigProblem[], withFile: boolean): ProjectConfig => ({
    dir, file: withFile ? file : undefined, roots, rootDirs: roots.map((r) => resolve(dir, r)), profiles: [...BUILTIN_PROFILES, ...profiles.filter((p) => !(BUILTIN_PROFILES as readonly string[]).includes(p))], problems,
  });
  if (!existsSync(file)) return base(DEFAULT_ROOTS, [], [], false);
  let doc: Record<string, unknown>;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    const first = e.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
    return base(DEFAULT_ROOTS, [], [{ message: `provium.toml is not valid TOML: ${first}: fix it (the language server uses the default roots until then)`, line: Math.max(0, e.line - 1), character: Math.max(0, e.column - 1) }], true);
  }
  const problems: ConfigProblem[] = [];
  let roots = DEFAULT_ROOTS;
  const section = doc.provium;
  if (isTable(section) && section.roots !== undefined) {
    if (Array.isArray(section.roots) && section.roots.every((r) => typeof r === 'string')) roots = section.roots as string[];
    else problems.push({ message: 'provium.toml: [provium] roots must be a list of directory names, e.g. roots = ["tests"]', line: 0, character: 0 });
  }
  // A root the runner refuses is left out rather than scanned (the scan is synchronous).
  roots = roots.filter((r) => {
    const problem = rootProblem(r, resolve(dir, r));
    if (problem) problems.push({ message: `[provium] roots: ${problem} (the language server leaves it out)`, line: 0, character: 0 });
    return problem === undefined;
  });
  const profiles = isTable(doc.profiles) ? Object.keys(doc.profiles) : [];
  return base(roots, profiles, problems, true);
}
