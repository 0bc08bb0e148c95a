/**
 * The `build` command of a profile: run through `sh -c` in the directory of
 * provium.toml with `{out}` replaced by `<that dir>/.provium/build/<profile>`
 * (kept between runs so incremental builds stay fast). Runs at most once per
 * process for the same profile and command.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ProfileSpec } from './config.js';
import { loadExeca } from '../load-execa.js';

const runs = new Map<string, Promise<string>>();

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `{out}` of the profile: `<directory of provium.toml>/.provium/build/<profile>`. */
export function profileBuildDir(spec: ProfileSpec): string {
  return join(dirname(resolve(spec.file)), '.provium', 'build', spec.name);
}

/** The output directory of the profile's build, running the build first (once per process). */
export function runProfileBuild(spec: ProfileSpec & { build: string }, onProgress: (message: string) => void): Promise<string> {
  const base = dirname(resolve(spec.file));
  const out = profileBuildDir(spec);
  const memo = `${out}\0${spec.build}`;
  let run = runs.get(memo);
  if (!run) {
    run = (async () => {
      await mkdir(out, { recursive: true });
      const command = spec.build.replaceAll('{out}', shellQuote(out));
      onProgress(`profile ${spec.name}: running build command`);
      const execa = await loadExeca();
      const result = await execa('sh', ['-c', command], { cwd: base, all: true, reject: false, stdin: 'ignore' });
      if (result.failed) {
        const tail = (result.all ?? '').trimEnd().split('\n').slice(-20).join('\n');
        const status = result.exitCode !== undefined ? `exit status ${result.exitCode}` : (result.signal ?? result.shortMessage);
        throw new Error(`${spec.file}: [profiles.${spec.name}]: build command failed (${status}): ${command}${tail ? `\n${tail}` : ''}`);
      }
      return out;
    })();
    runs.set(memo, run);
    // A failed build may be fixed and retried in the same process.
    run.catch(() => runs.delete(memo));
  }
  return run;
}
