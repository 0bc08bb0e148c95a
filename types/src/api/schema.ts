import type { ApiSchema } from './schema-types.js';
import { A, fn, opt, p } from './schema/build.js';
import { batch } from './schema/batch.js';
import { bridge } from './schema/bridge.js';
import { capture } from './schema/capture.js';
import { clock } from './schema/clock.js';
import { consoleCls } from './schema/console.js';
import { disk } from './schema/disk.js';
import { file } from './schema/file.js';
import { lab } from './schema/lab.js';
import { nic } from './schema/nic.js';
import { proc } from './schema/process.js';
import { records } from './schema/records.js';
import { runResult } from './schema/run-result.js';
import { labSnapshot, snapshot } from './schema/snapshot.js';
import { stream } from './schema/stream.js';
import { syscallHandle, syscallRecords } from './schema/syscall.js';
import { testContext } from './schema/test-context.js';
import { vm } from './schema/vm.js';
import { worker } from './schema/worker.js';

/** Bumped whenever the Lua API changes shape; part of the fixture cache key. */
export const API_VERSION = '0.1.0';

// The Lua API, one file per class under schema/; everything else (runtime checks,
// the language server, docs/reference, the LuaCATS export) is derived from it.
export const API: ApiSchema = {
  version: API_VERSION,
  globals: [
    { name: 'provium', kind: 'value', type: 'Lab', doc: 'The file\'s root lab: every Lab method works on it, plus the file settings `reset_between_tests` and `timeout`.', status: A },
    { name: 'test', kind: 'function', status: A, doc: 'Registers a test; bodies run later, in file order.',
      fn: fn('test', [p('name', 'string', 'Unique within the file.'), opt('meta', 'TestMeta', 'slow, tags, timeout, skip and free keys.'), p('fn', 'function', 'The body, called with the test context `t`.')], 'nil',
        'Registers a test; bodies run later, in file order. Duplicate names in one file are an error.', A,
        [{ params: [p('name', 'string', 'Unique within the file.'), p('fn', 'function', 'The body, called with the test context `t`.')], returns: 'nil', doc: 'Without meta.' }]) },
    { name: 'todo', kind: 'function', status: A, doc: 'Marks the whole file skipped.',
      fn: fn('todo', [opt('reason', 'string', 'Shown for every test of the file.')], 'nil', 'Marks the whole file skipped: every test reports skipped with the reason.', A) },
    { name: 'wait_until', kind: 'function', status: A, doc: 'Polls a predicate until it returns a truthy value.',
      fn: fn('wait_until', [p('pred', 'function', 'Called until it returns a truthy value.'), opt('opts', 'WaitUntilOpts', 'timeout (10s), interval (0.1s), desc.')], 'any',
        'Calls `pred` until it returns a truthy value and returns that value; raises on timeout naming `desc`; an error inside `pred` propagates at once.', A) },
  ],
  classes: [testContext, lab, vm, disk, snapshot, labSnapshot, runResult, proc, file, stream, consoleCls, clock, bridge, nic, batch, capture, worker, syscallHandle],
  records: [...records, ...syscallRecords],
};
