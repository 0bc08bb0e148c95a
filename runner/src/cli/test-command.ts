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
import { MainHost, type HostOptions } from '../host/main-host.js';
import { runPlan } from '../orchestrator/run.js';
import { createWorkerPool, workerMaxHeapMbFromEnv } from '../pool/pool.js';
import type { MetaPair } from '../selection/meta-filter.js';
import { EventsSocket } from './events-socket.js';
import { onCtrlC } from './interrupt.js';
import { workerThreads } from './jobs.js';
import { checkReporterOptions, clampOvercommit } from './options.js';
import { selectTestFiles } from './test-files.js';
import { testReporters, type ReportingOptions } from './test-reporters.js';

export interface TestOptions extends ReportingOptions {
  jobs?: number;
  filter?: string;
  tag: string[];
  skipTag: string[];
  tagMeta: MetaPair[];
  skipTagMeta: MetaPair[];
  includeSlow?: boolean;
  failFast?: boolean;
  timeout?: number;
  timeoutScale: number;
  config?: string;
  mem?: number;
  cpus?: number;
  cpuOvercommit?: number;
  keepOnFailure?: boolean;
  shard?: ShardSpec;
  durations: string[];
  saveEvents?: string;
  saveDurations?: string;
  remoteCache?: string;
  remoteCacheReadOnly?: boolean;
  rerunFailed?: boolean;
  since?: string;
  watch?: boolean;
  eventsSocket?: string;
  /** false with --no-build. */
  build: boolean;
}

const notice = (m: string) => process.stderr.write(`provium: ${m}\n`);

export async function testCommand(paths: string[], o: TestOptions): Promise<number> {
  checkReporterOptions(o);
  if (o.watch && o.keepOnFailure) throw new UsageError('--keep-on-failure holds the failed VMs until Ctrl-C, and Ctrl-C ends --watch: use one of them');
  for (const [flag, file] of [['--save-events', o.saveEvents], ['--save-durations', o.saveDurations]] as const) if (file) checkWritableDir(flag, file);
  const host: HostOptions = {
    pool: { memory: o.mem, cpus: o.cpus, overcommit: o.cpuOvercommit === undefined ? undefined : clampOvercommit(o.cpuOvercommit, notice) },
    skipBuild: !o.build,
  };
  const socket = o.eventsSocket ? await EventsSocket.open(o.eventsSocket) : undefined;
  try {
    const run = (signal: AbortSignal, first: boolean) => runTests(paths, o, { host, socket, signal, rerunFailed: first && !!o.rerunFailed });
    if (o.watch) {
      const cwd = process.cwd();
      const watched = () => {
        const config = loadConfig(cwd, o.config);
        const found = discover(paths, config, cwd);
        return [...found.tests.map((t) => t.path), ...found.fixtures.map((f) => f.path), ...(config.file ? [config.file] : [])];
      };
      // --rerun-failed narrows the first run only: after that, a change runs the whole selection.
      return await (await import('./watch.js')).watch({ run, files: watched, notice });
    }
    const stop = new AbortController();
    const off = onCtrlC(stop, 'running files');
    try {
      return await run(stop.signal, true);
    } finally {
      off();
    }
  } finally {
    await socket?.close();
  }
}

interface RunContext {
  host: HostOptions;
  socket: EventsSocket | undefined;
  /** Ctrl-C: stops the run (the files running are cancelled). */
  signal: AbortSignal;
  rerunFailed: boolean;
}

/** One run over the selected files; resolves with its exit status. */
async function runTests(paths: string[], o: TestOptions, ctx: RunContext): Promise<number> {
  const cwd = process.cwd();
  const warn = (m: string) => notice(`warning: ${m}`);
  const selected = await selectTestFiles(paths, { ...o, rerunFailed: ctx.rerunFailed }, cwd, warn);
  if ('nothing' in selected) {
    notice(selected.nothing);
    return 0;
  }
  if ('looked' in selected) {
    const reporters = await testReporters(o, { cwd, config: selected.config, found: selected.found, socket: ctx.socket, warn: notice });
    const e: RunEvent = { event: 'no_files', timestamp: new Date().toISOString(), paths: selected.looked };
    reporters.forEach((r) => r.onEvent(e));
    for (const r of reporters) await r.close?.();
    return 0;
  }
  const { config, found, graph, shard } = selected;
  const remote = resolveRemoteCache(config.remote, o);
  if (shard && shard.tests.length === 0) notice(`shard ${shard.shard.index}/${shard.shard.count} has no files (there are fewer files than shards)`);

  const reporters = await testReporters(o, { cwd, config, found, socket: ctx.socket, warn: notice });
  const kept: VmKept[] = [];
  const emit = (e: RunEvent) => {
    if (e.event === 'vm_kept') kept.push(e);
    reporters.forEach((r) => r.onEvent(e));
  };
  reporters.forEach((r) => r.onRunStart?.(found.tests.length));

  const host = new MainHost(config, ctx.host, notice);

  const maxHeapMb = workerMaxHeapMbFromEnv();
  const jobs = workerThreads(o.jobs, found.tests.length, maxHeapMb, notice);
  const fileTimeout = fileTimeoutMs(o.timeout ?? config.timeout ?? DEFAULT_FILE_TIMEOUT_S, o.timeoutScale);
  // This run's own signal: what listens to it goes with the run, not with a --watch that outlives it.
  const interrupt = new AbortController();
  const forward = () => interrupt.abort();
  ctx.signal.addEventListener('abort', forward, { once: true });
  if (ctx.signal.aborted) forward();
  let fixtures: import('../fixtures/manager.js').FixtureManager | undefined;
  if (graph) {
    const { setUpFixtures } = await import('../fixtures/setup.js');
    fixtures = setUpFixtures(host, config, found, graph, emit, {
      fileTimeoutMs: fileTimeout,
      timeoutScale: o.timeoutScale,
      signal: interrupt.signal,
      warn,
      prewarm: true,
      remote,
    });
  }
  const pool = createWorkerPool(jobs, { maxHeapMb, adoptPrestarted: true });
  const chunks = chunkCacheDir(config.cacheDir);
  try {
    const summary = await runPlan(
      {
        files: found.tests,
        roots: found.roots,
        selection: { filter: o.filter, tags: o.tag, noTags: o.skipTag, tagMeta: o.tagMeta, noTagMeta: o.skipTagMeta, includeSlow: !!o.includeSlow },
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
    ctx.signal.removeEventListener('abort', forward);
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
