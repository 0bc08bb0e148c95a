/**
 * The io library: io.open/lines/read/write/close/input/output/popen/tmpfile/type,
 * the std handles and the FILE* methods (reading is in file-read.ts), binary-safe.
 * Writes and closes on pipes wait through host calls; disk files are synchronous.
 * Files opened by io.open are closed when the test file ends.
 */
import { lauxlib, lua, setFunctions, type LuaState } from '../lua/api.js';
import { bytesToText, pushText, raise, toText, typeName } from '../lua/values.js';
import { canWait, hostAwait } from '../runtime/host-call.js';
import { runtimeOf } from '../runtime/runtime.js';
import { defaultFile, FILE_META, fileAt, INPUT_KEY, openFileAt, OUTPUT_KEY, pushFailure, pushHandle, toIoError, trackDiskFile } from './file-handles.js';
import { fLines, fRead, ioLines, ioRead } from './file-read.js';
import { DiskFile, IoError, PipeFile, StdFile, type LuaFile } from './lua-file.js';
import { pushExitStatus } from './processes.js';
import { newTempFile } from './temp-files.js';

// ---- writing -------------------------------------------------------------

function collectWriteArgs(L: LuaState, first: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const top = lua.lua_gettop(L);
  for (let i = first; i <= top; i++) {
    const t = lua.lua_type(L, i);
    if (t !== lua.LUA_TSTRING && t !== lua.LUA_TNUMBER) raise(L, `bad argument #${i - first + 1} to 'write' (string expected, got ${typeName(L, i)})`);
    parts.push(lua.lua_tolstring(L, i)!);
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** Writes args from `first` to the handle at `handleIdx`; returns the handle (or the failure triple). */
function writeTo(L: LuaState, handleIdx: number, file: LuaFile, first: number): number {
  const data = collectWriteArgs(L, first);
  let pending: Promise<void> | void;
  try {
    pending = file.write(data);
  } catch (e) {
    return pushFailure(L, e);
  }
  lua.lua_pushvalue(L, handleIdx);
  // The data is queued either way; wait for the pipe to drain only where Lua can pause.
  if (pending instanceof Promise && canWait(L)) {
    const drained = pending;
    return hostAwait(L, 'file:write', () => drained, () => 1);
  }
  return 1;
}

function fWrite(L: LuaState): number {
  const file = openFileAt(L, 1, 'write');
  return writeTo(L, 1, file, 2);
}

function ioWrite(L: LuaState): number {
  const file = defaultFile(L, OUTPUT_KEY);
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, OUTPUT_KEY);
  lua.lua_insert(L, 1);
  return writeTo(L, 1, file, 2);
}

// ---- other methods ---------------------------------------------------------

function closeHandle(L: LuaState, file: LuaFile): number {
  if (file instanceof StdFile) {
    lua.lua_pushnil(L);
    pushText(L, 'cannot close standard file');
    return 2;
  }
  if (file instanceof PipeFile) return hostAwait(L, 'file:close', () => file.close(), pushExitStatus);
  try {
    file.close();
  } catch (e) {
    return pushFailure(L, e);
  }
  lua.lua_pushboolean(L, true);
  return 1;
}

function fClose(L: LuaState): number {
  return closeHandle(L, openFileAt(L, 1, 'close'));
}

function ioClose(L: LuaState): number {
  if (lua.lua_isnoneornil(L, 1)) return closeHandle(L, defaultFile(L, OUTPUT_KEY));
  return closeHandle(L, openFileAt(L, 1, 'close'));
}

function fSeek(L: LuaState): number {
  const file = openFileAt(L, 1, 'seek');
  const whence = lua.lua_isnoneornil(L, 2) ? 'cur' : toText(L, 2);
  if (whence !== 'set' && whence !== 'cur' && whence !== 'end') raise(L, `bad argument #1 to 'seek' (invalid option '${whence}')`);
  const offset = lua.lua_isnoneornil(L, 3) ? 0 : lauxlib.luaL_checkinteger(L, 3);
  if (!(file instanceof DiskFile)) return pushFailure(L, new IoError('Illegal seek', 29));
  let pos: number;
  try {
    pos = file.seek(whence, offset);
  } catch (e) {
    return pushFailure(L, e);
  }
  lua.lua_pushinteger(L, pos);
  return 1;
}

function fFlush(L: LuaState): number {
  openFileAt(L, 1, 'flush');
  lua.lua_pushvalue(L, 1);
  return 1;
}

function fSetvbuf(L: LuaState): number {
  openFileAt(L, 1, 'setvbuf');
  lua.lua_pushboolean(L, true);
  return 1;
}

function fTostring(L: LuaState): number {
  const file = fileAt(L, 1)!;
  pushText(L, file.closed ? 'file (closed)' : `file (0x${file.id.toString(16).padStart(8, '0')})`);
  return 1;
}

function ioFlush(L: LuaState): number {
  lua.lua_pushboolean(L, true);
  return 1;
}

function ioType(L: LuaState): number {
  const file = fileAt(L, 1);
  if (file === undefined) lua.lua_pushnil(L);
  else pushText(L, file.closed ? 'closed file' : 'file');
  return 1;
}

// ---- opening -------------------------------------------------------------


function ioOpen(L: LuaState): number {
  if (lua.lua_type(L, 1) !== lua.LUA_TSTRING) raise(L, `bad argument #1 to 'open' (string expected, got ${typeName(L, 1)})`);
  const name = toText(L, 1);
  const mode = lua.lua_isnoneornil(L, 2) ? 'r' : toText(L, 2);
  if (!DiskFile.isValidMode(mode)) raise(L, `bad argument #2 to 'open' (invalid mode '${mode}')`);
  let file: DiskFile;
  try {
    file = new DiskFile(name, mode);
  } catch (e) {
    return pushFailure(L, e, name);
  }
  trackDiskFile(L, file);
  pushHandle(L, file);
  return 1;
}

function ioPopen(L: LuaState): number {
  if (lua.lua_type(L, 1) !== lua.LUA_TSTRING) raise(L, `bad argument #1 to 'popen' (string expected, got ${typeName(L, 1)})`);
  const prog = toText(L, 1);
  const mode = lua.lua_isnoneornil(L, 2) ? 'r' : toText(L, 2);
  if (mode !== 'r' && mode !== 'w') raise(L, `bad argument #2 to 'popen' (invalid mode '${mode}': use "r" or "w")`);
  pushHandle(L, new PipeFile(runtimeOf(L).scope, prog, mode));
  return 1;
}

function ioTmpfile(L: LuaState): number {
  let file: DiskFile;
  try {
    file = new DiskFile(newTempFile(runtimeOf(L)), 'w+');
  } catch (e) {
    return pushFailure(L, e);
  }
  trackDiskFile(L, file);
  pushHandle(L, file);
  return 1;
}


/** io.input / io.output: with a name opens it, with a handle sets it; returns the current one. */
function selectDefault(key: string, mode: 'r' | 'w') {
  return (L: LuaState): number => {
    if (!lua.lua_isnoneornil(L, 1)) {
      if (lua.lua_type(L, 1) === lua.LUA_TSTRING) {
        const name = toText(L, 1);
        let file: DiskFile;
        try {
          file = new DiskFile(name, mode);
        } catch (e) {
          return raise(L, `${name}: ${toIoError(e).message}`);
        }
        trackDiskFile(L, file);
        pushHandle(L, file);
      } else {
        openFileAt(L, 1, key === INPUT_KEY ? 'input' : 'output');
        lua.lua_pushvalue(L, 1);
      }
      lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, key);
    }
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, key);
    return 1;
  };
}

const fileMethods = {
  close: fClose,
  flush: fFlush,
  lines: fLines,
  read: fRead,
  seek: fSeek,
  setvbuf: fSetvbuf,
  write: fWrite,
};

const ioFunctions = {
  close: ioClose,
  flush: ioFlush,
  input: selectDefault(INPUT_KEY, 'r'),
  lines: ioLines,
  open: ioOpen,
  output: selectDefault(OUTPUT_KEY, 'w'),
  popen: ioPopen,
  read: ioRead,
  tmpfile: ioTmpfile,
  type: ioType,
  write: ioWrite,
};

/** Installs `io` (global and package.loaded.io) and the FILE* metatable. */
export function openIo(L: LuaState): void {
  lauxlib.luaL_newmetatable(L, FILE_META);
  lua.lua_createtable(L, 0, 8);
  setFunctions(L, fileMethods);
  lua.lua_setfield(L, -2, '__index');
  lua.lua_pushcfunction(L, fTostring);
  lua.lua_setfield(L, -2, '__tostring');
  lua.lua_pop(L, 1);

  lua.lua_createtable(L, 0, 14);
  setFunctions(L, ioFunctions);
  const rt = runtimeOf(L);
  const toLog = (data: Uint8Array) => rt.write(bytesToText(data));
  for (const name of ['stdin', 'stdout', 'stderr'] as const) {
    pushHandle(L, new StdFile(name, toLog));
    if (name !== 'stderr') {
      lua.lua_pushvalue(L, -1);
      lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, name === 'stdin' ? INPUT_KEY : OUTPUT_KEY);
    }
    lua.lua_setfield(L, -2, name);
  }
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, '_LOADED');
  lua.lua_pushvalue(L, -2);
  lua.lua_setfield(L, -2, 'io');
  lua.lua_pop(L, 1);
  lua.lua_setglobal(L, 'io');
}
