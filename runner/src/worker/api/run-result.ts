/** What `vm:run()` and `process:wait()` return: the binding of the schema's RunResult class. */
import type { Lua } from '@provium/types';
import { RunResult } from '../vm/results.js';

export const runResultBinding: Lua.RunResultBinding = {
  is: (v) => v instanceof RunResult,
  receiver: 'result',
  tostring: (r) => `RunResult(${r.status}, exit ${r.exit_code})`,
  fields: {
    exit_code: { get: (r) => r.exit_code },
    stdout: { get: (r) => r.stdout },
    stderr: { get: (r) => r.stderr },
    status: { get: (r) => r.status },
    signal: { get: (r) => r.signal },
    signal_name: { get: (r) => r.signal_name },
    timed_out: { get: (r) => r.timed_out },
    truncated: { get: (r) => r.truncated },
  },
  methods: {
    ok: (r) => r.ok(),
    assert_ok: (r) => {
      if (!r.ok()) throw new Error(r.failureText());
      return r;
    },
  },
};
