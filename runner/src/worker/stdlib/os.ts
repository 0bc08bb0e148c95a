/**
 * The os library, made safe for a shared runner: os.exit ends the test file
 * (not the process), os.execute runs asynchronously with its output in the log,
 * os.tmpname files are cleaned up with the file. The rest is fengari's.
 */
import { lua, type LuaState } from '../lua/api.js';
import { authorLocation } from '../lua/debug-info.js';
import { pushText, toText } from '../lua/values.js';
import { hostAwait, throwAbort } from '../runtime/host-call.js';
import { runtimeOf } from '../runtime/runtime.js';
import { pushExitStatus, startShell } from './processes.js';
import { newTempFile } from './temp-files.js';

function osExit(L: LuaState): number {
  const rt = runtimeOf(L);
  const location = authorLocation(L, 1);
  const code = lua.lua_isnoneornil(L, 1) ? '' : toText(L, 1) || String(lua.lua_toboolean(L, 1));
  const where = location ? ` at ${location.file}:${location.line}` : '';
  rt.setAbort({ kind: 'exit', message: `os.exit(${code}) called${where}: the test file ends here`, location });
  return throwAbort(L, rt);
}

function osExecute(L: LuaState): number {
  if (lua.lua_isnoneornil(L, 1)) {
    lua.lua_pushboolean(L, true);
    return 1;
  }
  if (lua.lua_type(L, 1) !== lua.LUA_TSTRING) {
    pushText(L, "bad argument #1 to 'execute' (string expected)");
    return lua.lua_error(L);
  }
  const cmd = toText(L, 1);
  const rt = runtimeOf(L);
  return hostAwait(L, 'os.execute', () => startShell(rt.scope, cmd, { readStdout: false, writeStdin: false }).exited, pushExitStatus);
}

function osTmpname(L: LuaState): number {
  let file: string;
  try {
    file = newTempFile(runtimeOf(L));
  } catch (e) {
    pushText(L, `os.tmpname: unable to create a temporary file: ${(e as Error).message}`);
    return lua.lua_error(L);
  }
  pushText(L, file);
  return 1;
}

/** Replaces the unsafe parts of the `os` table (on top of the stack). */
export function patchOs(L: LuaState): void {
  lua.lua_pushcfunction(L, osExit);
  lua.lua_setfield(L, -2, 'exit');
  lua.lua_pushcfunction(L, osExecute);
  lua.lua_setfield(L, -2, 'execute');
  lua.lua_pushcfunction(L, osTmpname);
  lua.lua_setfield(L, -2, 'tmpname');
}
