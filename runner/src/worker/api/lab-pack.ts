/**
 * `provium.pack` / `provium:pack` and `unpack` (the sheet's §2): the Lab
 * fields hold a function that is fengari's `string.pack`/`string.unpack`,
 * dropping a leading Lab so that the dot and the colon forms both work.
 */
import { lua, type LuaState } from '../lua/api.js';
import { instanceClass } from '../binding/check.js';
import { raise, rawErrorText, toText } from '../lua/values.js';

/**
 * Calls the string function in upvalue 1 with the arguments, minus a leading
 * Lab (the colon form). Its error (a bad format) is raised at the author's
 * line, named as `provium.<upvalue 2>`: called from here it has neither.
 */
function callDroppingLab(L: LuaState): number {
  if (instanceClass(L, 1)?.name === 'Lab') lua.lua_remove(L, 1);
  lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
  lua.lua_insert(L, 1);
  if (lua.lua_pcall(L, lua.lua_gettop(L) - 1, lua.LUA_MULTRET, 0) !== lua.LUA_OK) {
    raise(L, `provium.${toText(L, lua.lua_upvalueindex(2))}: ${rawErrorText(L, -1)}`);
  }
  return lua.lua_gettop(L);
}

/**
 * A rawGet for the field `name` ("pack" or "unpack"): one closure per state,
 * kept in the registry, over the string library's own function (as loaded,
 * whatever the file later does to the `string` table).
 */
export function packField(name: 'pack' | 'unpack'): (L: LuaState) => number {
  const registryKey = `provium.lab.${name}`;
  return (L) => {
    if (lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, registryKey) === lua.LUA_TFUNCTION) return 1;
    lua.lua_pop(L, 1);
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, '_LOADED');
    lua.lua_getfield(L, -1, 'string');
    lua.lua_getfield(L, -1, name);
    lua.lua_pushstring(L, name);
    lua.lua_pushcclosure(L, callDroppingLab, 2);
    lua.lua_replace(L, -3);
    lua.lua_pop(L, 1);
    lua.lua_pushvalue(L, -1);
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, registryKey);
    return 1;
  };
}
