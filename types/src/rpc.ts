/**
 * The one contract between the orchestrator (main thread) and a worker thread.
 * A worker receives a serializable FileTask, runs one test file and streams
 * batches of test events back over `port`, then resolves with a FileOutcome.
 */
import type { FailureInfo, FileStatus, TestEvent, VmEvent } from './events.js';
import type { HostCall } from './host-services.js';

/** A `--tag-meta KEY=VALUE` pair (split at the first `=`). */
export interface MetaPair {
  key: string;
  value: string;
}

export interface TestSelection {
  /** Substring of the file path or the test name (`--filter`). */
  filter?: string;
  /** Run only tests carrying one of these tags (`--tag`). */
  tags: string[];
  /** Skip tests carrying any of these tags (`--no-tag`). */
  noTags: string[];
  /** Run only tests whose meta[key] holds one of the values given for that key, for every key (`--tag-meta`); absent: no such condition. */
  tagMeta?: MetaPair[];
  /** Skip tests whose meta[key] holds the value (`--no-tag-meta`). */
  noTagMeta?: MetaPair[];
  includeSlow: boolean;
}

export interface FileTask {
  /** Absolute path of the test file. */
  file: string;
  /** Path as shown to the user (relative to the working directory). */
  displayPath: string;
  /** Absolute root directories: `require` looks here. */
  roots: string[];
  selection: TestSelection;
  /** Per-file timeout in ms before `provium.timeout` overrides it (already scaled). */
  fileTimeoutMs: number;
  /** `--timeout-scale`: multiplies every timeout the file sets. */
  timeoutScale: number;
  /** Index of the worker thread running the file (shown in events). */
  workerIndex: number;
  /** `--keep-on-failure`: leave the VMs of a failed file running for `provium shell`. */
  keepOnFailure: boolean;
  /** Where compiled Lua chunks are cached (runner/src/worker/runtime/chunk-cache.ts); none: parse every time. */
  chunkCacheDir?: string;
  /**
   * Set when the file is a fixture builder: its chunk must return a Snapshot
   * or LabSnapshot, written under `snapshotDir` (the main thread's, kept after
   * the file ends so the result can be installed in the cache).
   */
  fixture?: { name: string; snapshotDir: string };
}

/** Messages a worker posts on its port while running a file. */
export type WorkerMessage =
  | { kind: 'events'; events: TestEvent[] }
  /** The file's effective timeout, once its top-level code has set `provium.timeout`. */
  | { kind: 'file_timeout'; timeoutMs: number }
  /** VM lifecycle events (vm_spawned, vm_shutdown, file_blocked), forwarded to the reporters. */
  | { kind: 'vm_events'; events: VmEvent[] }
  /** A request to the main thread's HostServices; answered by a HostMessage with the same id. */
  | { kind: 'host_call'; id: number; call: HostCall };

export interface FileOutcome {
  status: FileStatus;
  passed: number;
  failed: number;
  skipped: number;
  error?: FailureInfo;
  log: string[];
  /** A fixture builder's result: what its chunk returned. */
  fixtureResult?: { kind: 'vm' | 'lab'; path: string };
}
