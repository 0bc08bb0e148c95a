/**
 * `provium fixture export FILE [names...]` and `provium fixture import FILE`:
 * cache entries carried between machines in one archive (fixtures/archive.ts).
 * Export takes the named fixtures' current entries (default: every fixture of
 * the project that is fresh) with the entries they need; import verifies the
 * archive whole, then installs each entry under its cache lock.
 *
 * Ctrl-C removes what the command was writing (its archive's temp file, its
 * staging directory) before it exits.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { onStopSignal } from '../../stop-signals.js';
import { formatBytes } from './fixture.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

/** On Ctrl-C: removes the partial files of this process under `dirs` (and `extra`), then exits 130. */
function cleanUpOnInterrupt(dirs: string[], extra: string[] = []): () => void {
  const onSigint = () => {
    for (const f of extra) rmSync(f, { force: true });
    for (const d of dirs) {
      let names: string[] = [];
      try {
        names = readdirSync(d);
      } catch {
        // not created yet
      }
      for (const n of names) if (n.includes(`.partial-${process.pid}`)) rmSync(path.join(d, n), { recursive: true, force: true });
    }
    process.stderr.write('\ninterrupted: nothing was written\n');
    process.exit(130);
  };
  return onStopSignal(onSigint);
}

async function exportCommand(file: string, names: string[], o: { config?: string }): Promise<number> {
  const { fixtureOverview } = await import('./fixture.js');
  const { UsageError } = await import('../../errors.js');
  const { withParents, writeArchive } = await import('../../fixtures/archive.js');
  const ov = await fixtureOverview(o, (m) => process.stderr.write(`provium: ${m}\n`));
  const known = ov.fixtures.map((f) => f.name);
  for (const n of names) if (!known.includes(n)) throw new UsageError(`fixture export: unknown fixture "${n}"; fixtures: ${known.join(', ') || 'none'}`);
  const chosen = names.length ? ov.fixtures.filter((f) => names.includes(f.name)) : ov.fixtures.filter((f) => f.state === 'fresh');
  const missing = chosen.filter((f) => f.state !== 'fresh');
  if (missing.length) {
    for (const f of missing) process.stderr.write(`provium: fixture ${f.name} has no cache entry for its current inputs (${f.state === 'unknown' ? `its key is unknown: ${f.reason}` : f.state}): build it first (provium fixture build ${f.name})\n`);
    return 1;
  }
  if (chosen.length === 0) {
    process.stderr.write(`provium: nothing to export: no fixture of this project is in the cache ${ov.dir} for its current inputs (provium fixture build builds them)\n`);
    return 1;
  }
  const target = path.resolve(file);
  const stop = cleanUpOnInterrupt([ov.dir], [`${target}.partial-${process.pid}`]);
  try {
    const entries = await writeArchive(ov.dir, withParents(ov.dir, chosen.map((f) => f.key!)), target);
    for (const e of entries) say(`  ${e.name}  ${e.kind}  ${e.key.slice(0, 12)}`);
    say(`exported ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} to ${file} (${formatBytes(statSync(target).size)})`);
    return 0;
  } catch (e) {
    process.stderr.write(`provium: fixture export ${file}: ${(e as Error).message}\n`);
    return 1;
  } finally {
    stop();
  }
}

async function importCommand(file: string, o: { config?: string }): Promise<number> {
  const { loadConfig } = await import('../../config/load.js');
  const { UsageError } = await import('../../errors.js');
  const { fixturesDir } = await import('../../fixtures/cache-paths.js');
  const { importArchive } = await import('../../fixtures/archive-import.js');
  const { ArchiveError } = await import('../../fixtures/archive.js');
  const { acquireLock } = await import('../../fixtures/lock.js');
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new UsageError(`fixture import: ${file}: no such file`);
  }
  if (!isFile) throw new UsageError(`fixture import: ${file} is not a file (give the archive provium fixture export wrote)`);
  const dir = fixturesDir(loadConfig(process.cwd(), o.config));
  const stop = cleanUpOnInterrupt([dir]);
  try {
    const r = await importArchive(file, dir, {
      lock: (key) => acquireLock(path.join(dir, `${key}.lock`), () => process.stderr.write(`provium: waiting for another provium process building ${key.slice(0, 12)}\n`)),
    });
    for (const e of r.installed) say(`imported        ${e.name}  ${e.kind}  ${e.key.slice(0, 12)}`);
    for (const e of r.skipped) say(`already cached  ${e.name}  ${e.kind}  ${e.key.slice(0, 12)}`);
    say(`${r.installed.length} imported, ${r.skipped.length} already in the cache ${dir}`);
    return 0;
  } catch (e) {
    if (!(e instanceof ArchiveError)) throw e;
    process.stderr.write(`provium: fixture import: ${e.message}\n`);
    return 1;
  } finally {
    stop();
  }
}

/** Registers `export` and `import` under `provium fixture`. */
export function fixtureTransferCommands(fixture: Command, exit: (code: number) => void): void {
  fixture
    .command('export <file> [names...]')
    .description('write the cache entries of the named fixtures (default: every fresh one), with the entries they need, to one archive')
    .option('--config <file>', 'provium.toml to use (default: searched upward from the working directory)')
    .action(async (file: string, names: string[], opts: { config?: string }) => exit(await exportCommand(file, names, opts)));
  fixture
    .command('import <file>')
    .description('verify an archive of provium fixture export whole, then install its entries into the cache (those present and sound are left)')
    .option('--config <file>', 'provium.toml to use (default: searched upward from the working directory)')
    .action(async (file: string, opts: { config?: string }) => exit(await importCommand(file, opts)));
}
