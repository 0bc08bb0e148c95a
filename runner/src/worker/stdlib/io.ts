/**
 * The io library over lua-file.ts: io.open/lines/read/write/close/input/output/
 * popen/tmpfile/type and file handle methods (read, write, lines, seek, close,
 * flush, setvbuf), binary-safe. Reads and writes on pipes wait through host
 * calls; disk files are synchronous. Open handles are closed when the file ends.
 */
import { constants } from 'node:os';
import { lauxlib, lua, type LuaState } from '../lua/api.js';
import { bytesToText, pushBytes, pushText, raise, toText, typeName } from '../lua/values.js';
import { canWait, hostAwait } from '../runtime/host-call.js';
import { runtimeOf } from '../runtime/runtime.js';
import { DiskFile, IoError, PipeFile, StdFile, type LuaFile } from './lua-file.js';
import { pushExitStatus } from './processes.js';
import { NEED_MORE, type ReadFormat } from './read-buffer.js';
import { newTempFile } from './temp-files.js';

const FILE_META = 'FILE*';
const INPUT_KEY = '_IO_input';
const OUTPUT_KEY = '_IO_output';

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

function toIoError(e: unknown): IoError {
  if (e instanceof IoError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== undefined) return new IoError(STRERROR[code] ?? code, (constants.errno as Record<string, number>)[code] ?? 0);
  return new IoError(e instanceof Error ? e.message : String(e), 0);
}

/** Lua's failure triple: nil, "[name: ]message", errno. */
function pushFailure(L: LuaState, e: unknown, name?: string): number {
  const err = toIoError(e);
  lua.lua_pushnil(L);
  pushText(L, name === undefined ? err.message : `${name}: ${err.message}`);
  lua.lua_pushinteger(L, err.errno);
  return 3;
}

function pushHandle(L: LuaState, file: LuaFile): void {
  const ud = lua.lua_newuserdata(L, 0);
  ud.file = file;
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, FILE_META);
  lua.lua_setmetatable(L, -2);
}

function fileAt(L: LuaState, idx: number): LuaFile | undefined {
  const ud = lauxlib.luaL_testudata(L, idx, FILE_META);
  return ud === null ? undefined : (ud.file as LuaFile);
}

/** The open file at `idx`; raises naming `fname` otherwise. */
function openFileAt(L: LuaState, idx: number, fname: string): LuaFile {
  const file = fileAt(L, idx);
  if (file === undefined) raise(L, `bad argument #${idx} to '${fname}' (FILE* expected, got ${typeName(L, idx)})`);
  if (file.closed) raise(L, 'attempt to use a closed file');
  return file;
}

// ---- reading -------------------------------------------------------------

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

function fRead(L: LuaState): number {
  return startRead(L, openFileAt(L, 1, 'read'), 2, 'read');
}

function ioRead(L: LuaState): number {
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

function fLines(L: LuaState): number {
  openFileAt(L, 1, 'lines');
  pushLines(L, 1, 2, 'lines', false);
  return 1;
}

function ioLines(L: LuaState): number {
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

function trackDiskFile(L: LuaState, file: DiskFile): void {
  runtimeOf(L).fileScope.onEnd(() => file.close());
}

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

function defaultFile(L: LuaState, key: string): LuaFile {
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, key);
  const file = fileAt(L, -1)!;
  lua.lua_pop(L, 1);
  if (file.closed) raise(L, `default ${key === INPUT_KEY ? 'input' : 'output'} file is closed`);
  return file;
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
  lauxlib.luaL_setfuncs(L, fileMethods, 0);
  lua.lua_setfield(L, -2, '__index');
  lua.lua_pushcfunction(L, fTostring);
  lua.lua_setfield(L, -2, '__tostring');
  lua.lua_pop(L, 1);

  lua.lua_createtable(L, 0, 14);
  lauxlib.luaL_setfuncs(L, ioFunctions, 0);
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
