import type { ClassSpec } from '../schema-types.js';
import { p, opt, fn, field, A } from './build.js';

export const testContext: ClassSpec = {
  name: 'TestContext',
  doc: 'The `t` passed to a test body: assertions, logging and the test\'s own meta.',
  fields: [
    field('name', 'string', 'The test\'s name as registered with `test(name, ...)`.', A),
    field('meta', 'TestMeta', 'The test\'s meta table (`slow`, `tags`, `timeout`, `skip` and any free keys).', A),
  ],
  methods: [
    fn('assert', [p('cond', 'any', 'Fails the test when falsy.'), opt('msg', 'any', 'Message on failure (any value: `tostring(msg)`); not looked at unless `cond` is falsy.')], 'nil',
      'Fails the test unless `cond` is truthy; as Lua\'s `assert`, `t:assert(s:find("x"))` passes when found.', A),
    fn('assert_eq', [p('a', 'any', 'Actual value.'), p('b', 'any', 'Expected value.'), opt('msg', 'string', 'Message on failure.')], 'nil',
      'Fails unless `a == b` (tables are compared deeply); the message shows both values: `assert_eq failed: apple ~= orange`.', A),
    fn('assert_neq', [p('a', 'any', 'Actual value.'), p('b', 'any', 'Value it must differ from.'), opt('msg', 'string', 'Message on failure.')], 'nil',
      'Fails if `a == b` (deep for tables).', A),
    fn('assert_contains', [p('haystack', 'string|table', 'A string, or a list.'), p('needle', 'any', 'Plain substring, or an element of the list.'), opt('msg', 'string', 'Message on failure.')], 'nil',
      'Fails unless the string contains `needle` (plain, not a pattern) or the list has an element equal to it.', A),
    fn('assert_raises', [p('fn', 'function', 'Called with no arguments; must raise.'), opt('msg', 'string', 'Message on failure.')], 'any',
      'Calls `fn` and fails unless it raises; returns the error value.', A),
    fn('fail', [p('msg', 'string', 'Why the test failed.')], 'nil', 'Fails the test now with `msg`.', A),
    fn('skip', [opt('reason', 'string', 'Shown in the report.')], 'nil', 'Stops the test here and reports it skipped.', A),
    fn('log', [p('msg', 'any', 'Written to the test\'s log (tostring of the value).')], 'nil', 'Adds a line to the test\'s log (shown on failure and with -v).', A),
  ],
};
