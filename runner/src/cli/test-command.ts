/** `provium test`: the one place that connects discovery, the runner and the reporters. */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { RunEvent, ShardSpec, VmKept } from '@provium/types';
import { DEFAULT_FILE_TIMEOUT_S } from '../config/defaults.js';
import { loadConfig } from '../config/load.js';
import { resolveRemoteCache } from '../config/remote-cache.js';
import { fileTimeoutMs } from '../config/timeout.js';
import { UsageError } from '../errors.js';
import { discover } from '../list/discover.js';
import { chunkCacheDir, trimChunkCache } from '../host/chunk-cache.js';
import { MainHost } from '../host/main-host.js';
import { runPlan } from '../orchestrator/run.js';
import { createWorkerPool, workerMaxHeapMbFromEnv } from '../pool/pool.js';
import { DefaultReporter } from '../reporters/default.js';
import { EventFileReporter } from '../reporters/event-file.js';
import { JsonReporter } from '../reporters/json.js';
import type { Reporter } from '../reporters/reporter.js';
import { workerThreads } from './jobs.js';
import { checkReporterOptions } from './options.js';

export interface TestOptions {
  jobs?: number;
  filter?: string;
  tag: string[];
  skipTag: string[];
  includeSlow?: boolean;
  failFast?: boolean;
  timeout?: number;
  timeoutScale: number;
  json?: boolean;
  reporter: string;
  output?: string;
  verbose?: boolean;
  quiet?: boolean;
  config?: string;
  cpuOvercommit?: number;
  keepOnFailure?: boolean;
  shard?: ShardSpec;
  durations: string[];
  saveEvents?: string;
  saveDurations?: string;
  remoteCache?: string;
  remoteCacheReadOnly?: boolean;
}

export async function testCommand(paths: string[], o: TestOptions): Promise<number> {
  checkReporterOptions(o);
  const cwd = process.cwd();
  const config = loadConfig(cwd, o.config);
  const remote = resolveRemoteCache(config.remote, o);
  const found = discover(paths, config, cwd);
  if (found.tests.length === 0) throw new UsageError(`no *.test.lua files under ${paths.length ? paths.join(', ') : found.roots.join(', ')}`);
  // A fixture cycle or an unknown fixture: a warning now, an error in the tests that use it.
  const graph = await (await import('../fixtures/graph-check.js')).checkFixtureGraph(found, (m) => process.stderr.write(`provium: warning: ${m}\n`));
  const shard = o.shard || o.durations.length > 0 ? (await import('./shard-option.js')).shardFiles(found, o, { cwd, baseDir: config.baseDir, graph }) : undefined;
  if (shard) found.tests = shard.tests;
  if (shard && shard.tests.length === 0) process.stderr.write(`provium: shard ${shard.shard.index}/${shard.shard.count} has no files (there are fewer files than shards)\n`);
  for (const [flag, file] of [['--save-events', o.saveEvents], ['--save-durations', o.saveDurations]] as const) if (file) checkWritableDir(flag, file);

  const reporters: Reporter[] = [];
  if (o.json) reporters.push(new JsonReporter(process.stdout));
  else reporters.push(new DefaultReporter({ out: process.stdout, verbose: !!o.verbose, quiet: !!o.quiet, color: !!process.stdout.isTTY && !process.env.NO_COLOR }));
  if (o.reporter === 'junit') reporters.push(new (await import('../reporters/junit.js')).JunitReporter(o.output!));
  if (o.saveEvents) {
    try {
      reporters.push(new EventFileReporter(o.saveEvents));
    } catch (e) {
      throw new UsageError(`--save-events ${o.saveEvents}: cannot write it: ${(e as Error).message}`);
    }
  }
  if (o.saveDurations) {
    const { DurationsRecorder } = await import('../shard/durations-recorder.js');
    const { projectPath } = await import('../shard/project-path.js');
    reporters.push(new DurationsRecorder(o.saveDurations, (file) => projectPath(config.baseDir, path.resolve(cwd, file))));
  }
  const kept: VmKept[] = [];
  const emit = (e: RunEvent) => {
    if (e.event === 'vm_kept') kept.push(e);
    reporters.forEach((r) => r.onEvent(e));
  };
  reporters.forEach((r) => r.onRunStart?.(found.tests.length));

  const host = new MainHost(config, o.cpuOvercommit, (m) => process.stderr.write(`provium: ${m}\n`));

  const maxHeapMb = workerMaxHeapMbFromEnv();
  const jobs = workerThreads(o.jobs, found.tests.length, maxHeapMb, (m) => process.stderr.write(`provium: ${m}\n`));
  const fileTimeout = fileTimeoutMs(o.timeout ?? config.timeout ?? DEFAULT_FILE_TIMEOUT_S, o.timeoutScale);
  const interrupt = new AbortController();
  let fixtures: import('../fixtures/manager.js').FixtureManager | undefined;
  if (graph) {
    const { setUpFixtures } = await import('../fixtures/setup.js');
    fixtures = setUpFixtures(host, config, found, graph, emit, {
      fileTimeoutMs: fileTimeout,
      timeoutScale: o.timeoutScale,
      signal: interrupt.signal,
      warn: (m) => process.stderr.write(`provium: warning: ${m}\n`),
      prewarm: true,
      remote,
    });
  }
  const pool = createWorkerPool(jobs, { maxHeapMb, adoptPrestarted: true });
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130); // a second Ctrl-C does not wait for cleanup
    process.stderr.write('\ninterrupted: stopping running files (Ctrl-C again to quit at once)\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  const chunks = chunkCacheDir(config.cacheDir);
  try {
    const summary = await runPlan(
      {
        files: found.tests,
        roots: found.roots,
        selection: { filter: o.filter, tags: o.tag, noTags: o.skipTag, includeSlow: !!o.includeSlow },
        jobs,
        fileTimeoutMs: fileTimeout,
        timeoutScale: o.timeoutScale,
        failFast: !!o.failFast,
        keepOnFailure: !!o.keepOnFailure,
        chunkCacheDir: chunks,
        shard: shard?.shard,
      },
      pool,
      emit,
      { signal: interrupt.signal, hostFor: (file, fileEmit, queue) => host.forFile(file, fileEmit, undefined, queue), beforeSummary: async () => fixtures?.close() },
    );
    for (const r of reporters) await r.close?.();
    if (kept.length > 0 && !interrupt.signal.aborted) await holdKeptVms(kept, interrupt.signal);
    return summary.exit_code;
  } finally {
    process.off('SIGINT', onSigint);
    await pool.close();
    host.close();
    trimChunkCache(chunks);
  }
}

/** `--keep-on-failure`: the kept VMs live as long as this process; say how to reach them and wait for Ctrl-C. */
async function holdKeptVms(kept: VmKept[], interrupted: AbortSignal): Promise<void> {
  const lines = ['', `Kept ${kept.length} VM${kept.length === 1 ? '' : 's'} of failed files running:`];
  for (const k of kept) {
    lines.push(`  ${k.vm} (${k.file}, QEMU pid ${k.pid})`, `    shell:   npx provium shell ${k.agent_socket}`, `    console: ${k.console_log}`);
  }
  lines.push('Press Ctrl-C to end them.', '');
  process.stderr.write(lines.join('\n'));
  // An abort listener does not keep Node alive: a timer does, until Ctrl-C.
  const alive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => interrupted.addEventListener('abort', () => resolve(), { once: true }));
  clearInterval(alive);
}

/** A file written when the run ends must not fail then: its directory must exist now. */
function checkWritableDir(flag: string, file: string): void {
  const dir = path.dirname(path.resolve(file));
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    // no such directory
  }
  if (!ok) throw new UsageError(`${flag} ${file}: the directory ${dir} does not exist; create it or write the file elsewhere`);
}
