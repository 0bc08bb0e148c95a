/** The FILE* userdata of Lua file handles and Lua's I/O failure results, shared by io.ts and file-read.ts. */
import { constants } from 'node:os';
import { lauxlib, lua, type LuaState } from '../lua/api.js';
import { pushText, raise, typeName } from '../lua/values.js';
import { runtimeOf } from '../runtime/runtime.js';
import { IoError, type DiskFile, type LuaFile } from './lua-file.js';

export const FILE_META = 'FILE*';
export const INPUT_KEY = '_IO_input';
export const OUTPUT_KEY = '_IO_output';

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EEXIST: 'File exists',
  EBADF: 'Bad file descriptor',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EMFILE: 'Too many open files',
  EINVAL: 'Invalid argument',
  EPIPE: 'Broken pipe',
};

export function toIoError(e: unknown): IoError {
  if (e instanceof IoError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== undefined) return new IoError(STRERROR[code] ?? code, (constants.errno as Record<string, number>)[code] ?? 0);
  return new IoError(e instanceof Error ? e.message : String(e), 0);
}

/** Lua's failure triple: nil, "[name: ]message", errno. */
export function pushFailure(L: LuaState, e: unknown, name?: string): number {
  const err = toIoError(e);
  lua.lua_pushnil(L);
  pushText(L, name === undefined ? err.message : `${name}: ${err.message}`);
  lua.lua_pushinteger(L, err.errno);
  return 3;
}

export function pushHandle(L: LuaState, file: LuaFile): void {
  const ud = lua.lua_newuserdata(L, 0);
  ud.file = file;
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, FILE_META);
  lua.lua_setmetatable(L, -2);
}

export function fileAt(L: LuaState, idx: number): LuaFile | undefined {
  const ud = lauxlib.luaL_testudata(L, idx, FILE_META);
  return ud === null ? undefined : (ud.file as LuaFile);
}

/** The open file at `idx`; raises naming `fname` otherwise. */
export function openFileAt(L: LuaState, idx: number, fname: string): LuaFile {
  const file = fileAt(L, idx);
  if (file === undefined) raise(L, `bad argument #${idx} to '${fname}' (FILE* expected, got ${typeName(L, idx)})`);
  if (file.closed) raise(L, 'attempt to use a closed file');
  return file;
}

export function trackDiskFile(L: LuaState, file: DiskFile): void {
  runtimeOf(L).fileScope.onEnd(() => file.close());
}

export function defaultFile(L: LuaState, key: string): LuaFile {
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, key);
  const file = fileAt(L, -1)!;
  lua.lua_pop(L, 1);
  if (file.closed) raise(L, `default ${key === INPUT_KEY ? 'input' : 'output'} file is closed`);
  return file;
}
