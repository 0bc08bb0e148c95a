/** print: to the current test's log (the file's log outside tests), never to stdout. */
import { lauxlib, lua, type LuaState } from '../lua/api.js';
import { bytesToText } from '../lua/values.js';
import { runtimeOf } from '../runtime/runtime.js';

export function print(L: LuaState): number {
  const n = lua.lua_gettop(L);
  const parts: string[] = [];
  for (let i = 1; i <= n; i++) {
    parts.push(bytesToText(lauxlib.luaL_tolstring(L, i)));
    lua.lua_pop(L, 1);
  }
  runtimeOf(L).write(parts.join('\t') + '\n');
  return 0;
}
