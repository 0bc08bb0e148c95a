/** Every default of the runner, in one place. */
import os from 'node:os';

export const CONFIG_FILE = 'provium.toml';
export const DEFAULT_ROOTS = ['tests'];
/** Per-file watchdog, seconds. */
export const DEFAULT_FILE_TIMEOUT_S = 5 * 60;
export const DEFAULT_CACHE_MAX_SIZE = '20G';
/** After a file's own timeout, how long the main thread waits for the worker before terminating it. */
export const HARD_KILL_GRACE_MS = 5_000;
/** The longest a Node timer waits (2^31-1 ms, 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
export const defaultJobs = (): number => os.availableParallelism();
