/** Reading file handles: the read formats, file:read / io.read, file:lines / io.lines (pipes wait through host calls). */
import { lua, type LuaState } from '../lua/api.js';
import { pushBytes, raise, toText } from '../lua/values.js';
import { hostAwait } from '../runtime/host-call.js';
import { defaultFile, fileAt, INPUT_KEY, openFileAt, pushFailure, pushHandle, toIoError, trackDiskFile } from './file-handles.js';
import { DiskFile, IoError, PipeFile, type LuaFile } from './lua-file.js';
import { NEED_MORE, type ReadFormat } from './read-buffer.js';

function parseFormats(L: LuaState, first: number, fname: string): ReadFormat[] {
  const top = lua.lua_gettop(L);
  if (top < first) return [{ kind: 'l', keepNewline: false }];
  const formats: ReadFormat[] = [];
  for (let i = first; i <= top; i++) {
    if (lua.lua_type(L, i) === lua.LUA_TNUMBER) {
      const n = lua.lua_tointegerx(L, i);
      if (n === false) raise(L, `bad argument #${i} to '${fname}' (number has no integer representation)`);
      formats.push({ kind: 'count', n: Math.max(0, n) });
      continue;
    }
    const f = toText(L, i).replace(/^\*/, '');
    switch (f[0]) {
      case 'n':
        formats.push({ kind: 'n' });
        break;
      case 'a':
        formats.push({ kind: 'a' });
        break;
      case 'l':
      case 'L':
        formats.push({ kind: 'l', keepNewline: f[0] === 'L' });
        break;
      default:
        raise(L, `bad argument #${i} to '${fname}' (invalid format)`);
    }
  }
  return formats;
}

interface ReadState {
  file: LuaFile;
  formats: ReadFormat[];
  index: number;
  pushed: number;
  /** For line iterators: what to do with the results. */
  finish?: (L: LuaState, pushed: number) => number;
}

function readLoop(L: LuaState, st: ReadState): number {
  const buffer = st.file.buffer!;
  for (; st.index < st.formats.length; st.index++) {
    let r = buffer.read(st.formats[st.index]);
    while (r === NEED_MORE) {
      if (st.file instanceof PipeFile) {
        const pipe = st.file;
        return hostAwait(L, 'file:read', () => pipe.more(), (L2) => readLoop(L2, st));
      }
      if (st.file instanceof DiskFile) {
        const failure = fillFrom(st.file);
        if (failure !== undefined) {
          lua.lua_pop(L, st.pushed);
          return pushFailure(L, failure);
        }
      } else buffer.eof = true;
      r = buffer.read(st.formats[st.index]);
    }
    st.pushed++;
    if (r === null) {
      lua.lua_pushnil(L);
      break;
    }
    if (r instanceof Uint8Array) pushBytes(L, r);
    else if (lua.lua_stringtonumber(L, r.numeral) === 0) {
      lua.lua_pushnil(L);
      break;
    }
  }
  return st.finish ? st.finish(L, st.pushed) : st.pushed;
}

/** Reads more of a disk file; the error when that fails. (No Lua calls inside try: Lua errors are JS throws.) */
function fillFrom(file: DiskFile): unknown {
  try {
    file.fill();
    return undefined;
  } catch (e) {
    return e;
  }
}

function startRead(L: LuaState, file: LuaFile, first: number, fname: string, finish?: ReadState['finish']): number {
  if (file.buffer === undefined) return pushFailure(L, new IoError('Bad file descriptor', 9));
  const formats = parseFormats(L, first, fname);
  if (file instanceof DiskFile) file.resetEof();
  return readLoop(L, { file, formats, index: 0, pushed: 0, finish });
}

export function fRead(L: LuaState): number {
  return startRead(L, openFileAt(L, 1, 'read'), 2, 'read');
}

export function ioRead(L: LuaState): number {
  const file = defaultFile(L, INPUT_KEY);
  return startRead(L, file, 1, 'read');
}

/** The iterator of file:lines / io.lines: upvalues = handle, formats (light userdata), close at EOF. */
function linesIterator(L: LuaState): number {
  const file = fileAt(L, lua.lua_upvalueindex(1))!;
  if (file.closed) raise(L, 'file is already closed');
  const formats = lua.lua_touserdata(L, lua.lua_upvalueindex(2)) as ReadFormat[];
  const closeAtEof = lua.lua_toboolean(L, lua.lua_upvalueindex(3));
  if (file.buffer === undefined) raise(L, 'Bad file descriptor');
  lua.lua_settop(L, 0);
  if (file instanceof DiskFile) file.resetEof();
  const finish = (L2: LuaState, n: number): number => {
    if (lua.lua_toboolean(L2, -n)) return n;
    if (n > 1 && lua.lua_type(L2, -n + 1) === lua.LUA_TSTRING) raise(L2, toText(L2, -n + 1));
    if (closeAtEof && file instanceof DiskFile) file.close();
    return 0;
  };
  return readLoop(L, { file, formats, index: 0, pushed: 0, finish });
}

function pushLines(L: LuaState, handleIdx: number, first: number, fname: string, closeAtEof: boolean): void {
  const formats = parseFormats(L, first, fname);
  lua.lua_pushvalue(L, handleIdx);
  lua.lua_pushlightuserdata(L, formats);
  lua.lua_pushboolean(L, closeAtEof);
  lua.lua_pushcclosure(L, linesIterator, 3);
}

export function fLines(L: LuaState): number {
  openFileAt(L, 1, 'lines');
  pushLines(L, 1, 2, 'lines', false);
  return 1;
}

export function ioLines(L: LuaState): number {
  if (lua.lua_isnoneornil(L, 1)) {
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, INPUT_KEY);
    lua.lua_replace(L, 1);
    openFileAt(L, 1, 'lines');
    pushLines(L, 1, 2, 'lines', false);
    return 1;
  }
  const name = toText(L, 1);
  let file: DiskFile;
  try {
    file = new DiskFile(name, 'r');
  } catch (e) {
    return raise(L, `${name}: ${toIoError(e).message}`);
  }
  trackDiskFile(L, file);
  pushHandle(L, file);
  lua.lua_replace(L, 1);
  pushLines(L, 1, 2, 'lines', true);
  return 1;
}

