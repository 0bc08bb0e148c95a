/**
 * Minimal typings for fengari 0.1.5 (Lua 5.3 in JS), covering what the worker uses.
 * Lua strings are byte arrays (`LuaString`); most functions taking a string also
 * accept a JS string, which fengari encodes as UTF-8.
 */
declare module 'fengari' {
  export type LuaString = Uint8Array;
  /** A Lua thread (`lua_State*`). Opaque; identity is stable per thread. */
  export interface LuaState {
    readonly __luaState: unique symbol;
  }
  export type LuaCFunction = (L: LuaState) => number;
  export type LuaKFunction = (L: LuaState, status: number, ctx: any) => number;
  export type LuaHook = (L: LuaState, ar: lua_Debug) => void;
  type Str = string | Uint8Array;

  export class lua_Debug {
    event: number;
    name: LuaString | null;
    namewhat: LuaString | null;
    what: LuaString | null;
    source: LuaString | null;
    currentline: number;
    linedefined: number;
    lastlinedefined: number;
    nups: number;
    nparams: number;
    isvararg: boolean;
    istailcall: number;
    short_src: LuaString | null;
  }

  export const lua: {
    lua_Debug: typeof lua_Debug;
    LUA_OK: 0; LUA_YIELD: 1; LUA_ERRRUN: 2; LUA_ERRSYNTAX: 3; LUA_ERRMEM: 4; LUA_ERRGCMM: 5; LUA_ERRERR: 6;
    LUA_MULTRET: -1;
    LUA_OPEQ: 0; LUA_OPLT: 1; LUA_OPLE: 2;
    LUA_REGISTRYINDEX: number;
    LUA_RIDX_MAINTHREAD: number;
    LUA_RIDX_GLOBALS: number;
    LUA_TNONE: -1; LUA_TNIL: 0; LUA_TBOOLEAN: 1; LUA_TLIGHTUSERDATA: 2; LUA_TNUMBER: 3; LUA_TSTRING: 4;
    LUA_TTABLE: 5; LUA_TFUNCTION: 6; LUA_TUSERDATA: 7; LUA_TTHREAD: 8;
    LUA_MASKCALL: number; LUA_MASKRET: number; LUA_MASKLINE: number; LUA_MASKCOUNT: number;
    LUA_HOOKCALL: 0; LUA_HOOKRET: 1; LUA_HOOKLINE: 2; LUA_HOOKCOUNT: 3; LUA_HOOKTAILCALL: 4;
    lua_upvalueindex(i: number): number;
    lua_absindex(L: LuaState, idx: number): number;
    lua_atnativeerror(L: LuaState, f: LuaCFunction | null): LuaCFunction | null;
    lua_call(L: LuaState, nargs: number, nresults: number): void;
    lua_callk(L: LuaState, nargs: number, nresults: number, ctx: any, k: LuaKFunction | null): void;
    lua_checkstack(L: LuaState, n: number): boolean;
    lua_close(L: LuaState): void;
    lua_compare(L: LuaState, a: number, b: number, op: number): boolean;
    lua_concat(L: LuaState, n: number): void;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_dump(L: LuaState, writer: (L: LuaState, b: Uint8Array, size: number, ud: any) => number, data: any, strip: boolean): number;
    lua_error(L: LuaState): never;
    lua_getfield(L: LuaState, idx: number, k: Str): number;
    lua_getglobal(L: LuaState, name: Str): number;
    lua_gethook(L: LuaState): LuaHook | null;
    lua_gethookcount(L: LuaState): number;
    lua_gethookmask(L: LuaState): number;
    lua_geti(L: LuaState, idx: number, n: number): number;
    lua_getinfo(L: LuaState, what: Str, ar: lua_Debug): number;
    lua_getmetatable(L: LuaState, idx: number): boolean;
    lua_getstack(L: LuaState, level: number, ar: lua_Debug): number;
    lua_gettop(L: LuaState): number;
    lua_getupvalue(L: LuaState, funcindex: number, n: number): LuaString | null;
    lua_insert(L: LuaState, idx: number): void;
    lua_isfunction(L: LuaState, idx: number): boolean;
    lua_isinteger(L: LuaState, idx: number): boolean;
    lua_isnoneornil(L: LuaState, idx: number): boolean;
    lua_isnil(L: LuaState, idx: number): boolean;
    lua_istable(L: LuaState, idx: number): boolean;
    lua_isstring(L: LuaState, idx: number): boolean;
    lua_isyieldable(L: LuaState): boolean;
    lua_load(L: LuaState, reader: (L: LuaState, data: any) => Uint8Array | null, data: any, chunkname: Str, mode: Str | null): number;
    lua_newtable(L: LuaState): void;
    lua_newthread(L: LuaState): LuaState;
    lua_newuserdata(L: LuaState, size: number): Record<string, any>;
    lua_next(L: LuaState, idx: number): boolean;
    lua_pcall(L: LuaState, nargs: number, nresults: number, errfunc: number): number;
    lua_pcallk(L: LuaState, nargs: number, nresults: number, errfunc: number, ctx: any, k: LuaKFunction | null): number;
    lua_pop(L: LuaState, n: number): void;
    lua_pushboolean(L: LuaState, b: boolean | number): void;
    lua_pushcclosure(L: LuaState, fn: LuaCFunction, n: number): void;
    lua_pushcfunction(L: LuaState, fn: LuaCFunction): void;
    lua_pushglobaltable(L: LuaState): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushlightuserdata(L: LuaState, p: unknown): void;
    lua_pushliteral(L: LuaState, s: string): LuaString;
    lua_pushlstring(L: LuaState, s: Str, len: number): LuaString;
    lua_pushnil(L: LuaState): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: Str | null | undefined): LuaString;
    lua_pushthread(L: LuaState): boolean;
    lua_pushvalue(L: LuaState, idx: number): void;
    lua_rawequal(L: LuaState, a: number, b: number): boolean;
    lua_rawget(L: LuaState, idx: number): number;
    lua_rawgeti(L: LuaState, idx: number, n: number): number;
    lua_rawgetp(L: LuaState, idx: number, p: unknown): number;
    lua_rawlen(L: LuaState, idx: number): number;
    lua_rawset(L: LuaState, idx: number): void;
    lua_rawseti(L: LuaState, idx: number, n: number): void;
    lua_rawsetp(L: LuaState, idx: number, p: unknown): void;
    lua_remove(L: LuaState, idx: number): void;
    lua_replace(L: LuaState, idx: number): void;
    lua_resume(L: LuaState, from: LuaState | null, nargs: number): number;
    lua_rotate(L: LuaState, idx: number, n: number): void;
    lua_setfield(L: LuaState, idx: number, k: Str): void;
    lua_setglobal(L: LuaState, name: Str): void;
    lua_sethook(L: LuaState, f: LuaHook | null, mask: number, count: number): void;
    lua_setmetatable(L: LuaState, idx: number): void;
    lua_settop(L: LuaState, idx: number): void;
    lua_status(L: LuaState): number;
    lua_stringtonumber(L: LuaState, s: Uint8Array): number;
    lua_toboolean(L: LuaState, idx: number): boolean;
    /** The JS function, or for a closure with upvalues the closure object holding it in `f`. */
    lua_tocfunction(L: LuaState, idx: number): LuaCFunction | { f: LuaCFunction } | null;
    lua_tointegerx(L: LuaState, idx: number): number | false;
    lua_tolstring(L: LuaState, idx: number): LuaString | null;
    lua_tonumber(L: LuaState, idx: number): number;
    lua_tonumberx(L: LuaState, idx: number): number | false;
    lua_topointer(L: LuaState, idx: number): object | null;
    /** A function that pushes (a reference to) the value at idx onto any thread of the same state. */
    lua_toproxy(L: LuaState, idx: number): (L: LuaState) => void;
    lua_tothread(L: LuaState, idx: number): LuaState | null;
    lua_touserdata(L: LuaState, idx: number): any;
    lua_type(L: LuaState, idx: number): number;
    lua_typename(L: LuaState, t: number): LuaString;
    lua_xmove(from: LuaState, to: LuaState, n: number): void;
    lua_yield(L: LuaState, n: number): never;
    lua_yieldk(L: LuaState, n: number, ctx: any, k: LuaKFunction | null): never;
  };

  export const lauxlib: {
    LUA_LOADED_TABLE: LuaString;
    LUA_NOREF: number;
    LUA_REFNIL: number;
    luaL_checkinteger(L: LuaState, arg: number): number;
    luaL_checklstring(L: LuaState, arg: number): LuaString;
    luaL_checkstack(L: LuaState, n: number, msg: Str | null): void;
    luaL_getsubtable(L: LuaState, idx: number, name: Str): boolean;
    luaL_getmetafield(L: LuaState, obj: number, e: Str): number;
    luaL_loadbuffer(L: LuaState, buff: Uint8Array, size: number | null, name: Str | null): number;
    luaL_loadbufferx(L: LuaState, buff: Uint8Array, size: number | null, name: Str | null, mode: Str | null): number;
    luaL_newmetatable(L: LuaState, tname: Str): number;
    luaL_newstate(): LuaState;
    luaL_ref(L: LuaState, t: number): number;
    luaL_requiref(L: LuaState, modname: Str, openf: LuaCFunction, glb: boolean): void;
    luaL_setfuncs(L: LuaState, l: Record<string, LuaCFunction>, nup: number): void;
    luaL_testudata(L: LuaState, ud: number, tname: Str): any;
    luaL_tolstring(L: LuaState, idx: number): LuaString;
    luaL_traceback(L: LuaState, L1: LuaState, msg: Str | null, level: number): void;
    luaL_unref(L: LuaState, t: number, ref: number): void;
    luaL_where(L: LuaState, level: number): void;
  };

  export const lualib: {
    luaopen_base: LuaCFunction;
    luaopen_coroutine: LuaCFunction;
    luaopen_debug: LuaCFunction;
    luaopen_math: LuaCFunction;
    luaopen_os: LuaCFunction;
    luaopen_package: LuaCFunction;
    luaopen_string: LuaCFunction;
    luaopen_table: LuaCFunction;
    luaopen_utf8: LuaCFunction;
  };

  export function to_luastring(s: string, cache?: boolean): LuaString;
  export function to_jsstring(s: Uint8Array, from?: number, to?: number, replacement_char?: boolean): string;

  const fengari: {
    lua: typeof lua;
    lauxlib: typeof lauxlib;
    lualib: typeof lualib;
    to_luastring: typeof to_luastring;
    to_jsstring: typeof to_jsstring;
  };
  export default fengari;
}
