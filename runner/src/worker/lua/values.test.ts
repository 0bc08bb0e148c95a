import { expect, test } from 'vitest';
import { lauxlib, lua } from './api.js';
import { bytesToText, pushBytes, pushText, toBytes, toText } from './values.js';

test('bytes cross between JS and Lua unchanged, text as UTF-8', () => {
  const L = lauxlib.luaL_newstate();
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  pushBytes(L, all);
  expect(lua.lua_rawlen(L, -1)).toBe(256);
  const back = toBytes(L, -1);
  expect(back).toEqual(all);
  back[0] = 99; // a copy: the Lua string is not changed
  expect(toBytes(L, -1)[0]).toBe(0);
  pushText(L, 'héllo ✓');
  expect(lua.lua_rawlen(L, -1)).toBe(Buffer.byteLength('héllo ✓'));
  expect(toText(L, -1)).toBe('héllo ✓');
  pushBytes(L, Uint8Array.of(0xff, 0x41));
  expect(toText(L, -1)).toBe('\ufffdA');
  lua.lua_pushinteger(L, 42);
  expect(toText(L, -1)).toBe('42');
  lua.lua_newtable(L);
  expect(() => toBytes(L, -1)).toThrow('expected a string at stack index -1, got table');
});

test('text of every length around the short cut-off decodes as UTF-8, ASCII or not', () => {
  for (const n of [0, 1, 31, 32, 33]) {
    for (const s of ['a'.repeat(n), `${'a'.repeat(Math.max(0, n - 1))}é`, `\u0000${'a'.repeat(n)}`]) expect(bytesToText(Buffer.from(s))).toBe(s);
  }
  expect(bytesToText(Uint8Array.of(0x41, 0xc3))).toBe('A\ufffd');
});
