/**
 * Run events: what `provium test --json` prints, one JSON object per line, and
 * what every reporter consumes. Workers produce the test-level events; the
 * orchestrator adds the file- and run-level ones. Bump EVENTS_VERSION when a
 * field changes meaning.
 */
export const EVENTS_VERSION = 1;

/** Free-form test meta as the author wrote it (`slow`, `tags`, `timeout`, `skip`, any other key). */
export type TestMeta = Record<string, unknown>;

export interface FailureInfo {
  message: string;
  /** Where the failing assertion or error stands in the author's code. */
  location?: { file: string; line: number };
  traceback?: string;
}

interface Base {
  /** ISO-8601 time the event happened. */
  timestamp: string;
}

interface TestBase extends Base {
  /** Test file path, relative to the working directory. */
  file: string;
  test: string;
  meta: TestMeta;
}

/** A run's part of a larger suite, `provium test --shard K/N`: `index` is K (from 1), `count` N. */
export interface ShardSpec { index: number; count: number }
/** A shard as run: `partition` fingerprints what was split (the files, their recorded times), the same in every shard of one split. */
export interface RunShard extends ShardSpec { partition: string }
/** The first event of a run: how many files it will run and, when sharded, which shard it is. */
export interface RunStarted extends Base { event: 'run_started'; files: number; shard?: RunShard }
export interface FileStarted extends Base { event: 'file_started'; file: string; worker: number }
export interface TestStarted extends TestBase { event: 'test_started' }
export interface TestPassed extends TestBase { event: 'test_passed'; duration_ms: number; log: string[] }
export interface TestFailed extends TestBase {
  event: 'test_failed';
  duration_ms: number;
  error: FailureInfo;
  log: string[];
  /** Failure artifacts (console log, agent log) kept for this test: name → path. */
  artifacts?: Record<string, string>;
}
export interface TestSkipped extends TestBase { event: 'test_skipped'; reason: string }

/** `cancelled`: stopped by --fail-fast or Ctrl-C before it finished (not a failure of its own). */
export type FileStatus = 'passed' | 'failed' | 'timed_out' | 'error' | 'skipped' | 'empty' | 'cancelled';
export interface FileCompleted extends Base {
  event: 'file_completed';
  file: string;
  status: FileStatus;
  duration_ms: number;
  passed: number;
  failed: number;
  skipped: number;
  /** A file-level error: syntax error, top-level error, timeout, worker death. */
  error?: FailureInfo;
  /** Lines printed with `print` outside of tests. */
  log: string[];
}
export interface RunCompleted extends Base {
  event: 'run_completed';
  passed: number;
  failed: number;
  skipped: number;
  files: number;
  failed_files: number;
  /** Files never started (after --fail-fast or Ctrl-C). */
  not_run: number;
  duration_ms: number;
  /** 130: interrupted (Ctrl-C). */
  exit_code: 0 | 1 | 2 | 130;
}

interface VmBase extends Base { file: string; vm: string }
export interface VmSpawned extends VmBase {
  event: 'vm_spawned'; pid: number; memory: number; cpus: number; accel: 'kvm' | 'tcg';
  /** Present (true) when a restore took a VM its worker had restored ahead of time. */
  spare?: true;
}
export interface VmShutdown extends VmBase { event: 'vm_shutdown'; reason: string }
/** A VM of a failed file left running (`--keep-on-failure`): how to reach it. */
export interface VmKept extends VmBase { event: 'vm_kept'; pid: number; agent_socket: string; console_log: string }
/** A file waits for pool resources: what it wants and what is free. */
export interface FileBlocked extends Base { event: 'file_blocked'; file: string; owner: string; wants: { memory: number; cpus: number }; free: { memory: number; cpus: number } }
/** Fixture cache: a build starts / waits for another build (this run or another provium) / ends; a cached entry is used. */
export interface FixtureBuildStarted extends Base { event: 'fixture_build_started'; fixture: string; key: string; for: string }
export interface FixtureBuildWaiting extends Base { event: 'fixture_build_waiting'; fixture: string; key: string; for: string; reason: string }
export interface FixtureBuildDone extends Base { event: 'fixture_build_done'; fixture: string; key: string; ok: boolean; duration_ms: number; bytes: number; error?: string; log?: string[] }
export interface FixtureCacheHit extends Base { event: 'fixture_cache_hit'; fixture: string; key: string; for: string; bytes: number }
/** Remote fixture cache: an entry was downloaded, verified and installed instead of built / a built entry was uploaded (or the upload failed). */
export interface FixtureRemoteHit extends Base { event: 'fixture_remote_hit'; fixture: string; key: string; for: string; bytes: number; duration_ms: number }
export interface FixtureRemoteUpload extends Base { event: 'fixture_remote_upload'; fixture: string; key: string; ok: boolean; bytes: number; duration_ms: number; error?: string }
/** A run that found no `*.test.lua` file (exit status 0): its only event. `paths`: where it looked. */
export interface NoFiles extends Base { event: 'no_files'; paths: string[] }
export type FixtureEvent = FixtureBuildStarted | FixtureBuildWaiting | FixtureBuildDone | FixtureCacheHit | FixtureRemoteHit | FixtureRemoteUpload;
export type VmEvent = VmSpawned | VmShutdown | VmKept | FileBlocked;

export type TestEvent = TestStarted | TestPassed | TestFailed | TestSkipped;
export type RunEvent = RunStarted | FileStarted | TestEvent | VmEvent | FixtureEvent | FileCompleted | RunCompleted | NoFiles;
export type RunEventName = RunEvent['event'];
