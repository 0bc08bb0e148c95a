/**
 * The session protocol between FilePool (main thread) and the worker entry.
 * One tinypool task per worker thread is a session: it lives as long as its
 * thread and runs the files it is sent over `control` one at a time, in the
 * order sent, and ends when `control` is closed. A file may be sent while the
 * one before it still runs, so that the thread goes on to it without waiting
 * for the main thread.
 *
 * Each file comes with a fresh MessageChannel port. On it the worker posts
 * `started` when it begins the file, then the file's WorkerMessages (and gets
 * its host replies), then `file_done`; or `dropped` if told to drop the file
 * before it began. A late host reply can never reach another file.
 */
import type { MessagePort } from 'node:worker_threads';
import type { FileOutcome, FileTask, TestEvent } from '@provium/types';

/** What the worker's default export is given as its tinypool task. */
export interface SessionTask {
  control: MessagePort;
}

/** Main → worker, on `control`. */
export type ControlMessage =
  | { kind: 'file'; id: number; task: FileTask; port: MessagePort }
  /** Drop file `id` if it has not begun (the worker answers `dropped` or has already posted `started`). */
  | { kind: 'drop'; id: number };

/** Worker → main, on the file's port, around its WorkerMessages. */
export type FileLifecycle =
  | { kind: 'started' }
  | { kind: 'dropped' }
  /** Last: the outcome, with the file's last batch of events. */
  | FileDone;

export interface FileDone {
  kind: 'file_done';
  outcome: FileOutcome;
  events: TestEvent[];
}
