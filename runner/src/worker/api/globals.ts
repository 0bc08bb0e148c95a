/** The schema's globals: `provium` (the file's root lab) and the test framework's functions. */
import type { Lua } from '@provium/types';
import { testGlobal, todoGlobal, waitUntilGlobal } from '../framework/globals.js';
import { Lab } from '../vm/lab.js';

export const globalBindings: Lua.ApiBindings['globals'] = {
  provium: { value: (services) => new Lab(services) },
  test: { raw: testGlobal },
  todo: { raw: todoGlobal },
  wait_until: { raw: waitUntilGlobal },
};
