/** The `t` passed to a test body: the binding of the schema's TestContext class (raw: assertions work on the Lua stack). */
import type { Lua } from '@provium/types';
import { TestRun } from '../framework/file-run.js';
import { assert, assertContains, assertEq, assertNeq, assertRaises, failMethod, log, pushMeta, skip } from '../framework/test-context.js';

export const testContextBinding: Lua.TestContextBinding = {
  is: (v) => v instanceof TestRun,
  receiver: 't',
  tostring: (t) => `TestContext: ${t.name}`,
  fields: {
    name: { get: (t) => t.name },
    meta: { rawGet: pushMeta },
  },
  methods: {
    assert: { raw: assert },
    assert_eq: { raw: assertEq },
    assert_neq: { raw: assertNeq },
    assert_contains: { raw: assertContains },
    assert_raises: { raw: assertRaises },
    fail: { raw: failMethod },
    skip: { raw: skip },
    log: { raw: log },
  },
};
