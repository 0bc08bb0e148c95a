/**
 * What a Lua state of this runtime actually exposes, read back from a fresh
 * state: the schema's globals that are set, and per class the methods in its
 * metatable and the fields it serves. Tests compare it with the schema's
 * 'available' entries in both directions.
 */
import { API, type ApiSchema } from '@provium/types';
import { lua } from '../lua/api.js';
import { bytesToText } from '../lua/values.js';
import { createLuaState } from '../runtime/create-state.js';
import { compileApi } from './compile.js';
import { defaultRegistry, type BindingRegistry, type FileServices } from './registry.js';
import '../implementations.js';

export interface ExposedApi {
  globals: string[];
  classes: Record<string, { methods: string[]; fields: string[] }>;
}

const noServices = (): FileServices => ({
  task: { file: '', displayPath: '', roots: [], selection: { tags: [], noTags: [], includeSlow: false }, fileTimeoutMs: 1000, timeoutScale: 1, workerIndex: 0, keepOnFailure: false },
  testName: undefined,
  timeoutScale: 1,
  host: undefined,
  vmEvent: () => {},
  onTestFailure: () => {},
  fileFailed: false,
  log: () => {},
  onScopeEnd: () => {},
  onFileEnd: () => {},
  setFileHooks: () => {},
  fileTimeoutSeconds: 1,
  setFileTimeout: () => {},
});

export function listExposed(schema: ApiSchema = API, registry: BindingRegistry = defaultRegistry): ExposedApi {
  const api = compileApi(schema, registry);
  const services = noServices();
  const { L, bindings } = createLuaState(services.task, api, () => services);
  const globals: string[] = [];
  for (const g of schema.globals) {
    if (lua.lua_getglobal(L, g.name) !== lua.LUA_TNIL) globals.push(g.name);
    lua.lua_pop(L, 1);
  }
  const classes: ExposedApi['classes'] = {};
  for (const cls of api.classes.values()) {
    bindings.pushMetatable(L, cls);
    lua.lua_getfield(L, -1, '__methods');
    const methods: string[] = [];
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2)) {
      if (lua.lua_type(L, -1) === lua.LUA_TFUNCTION) methods.push(bytesToText(lua.lua_tolstring(L, -2)!));
      lua.lua_pop(L, 1);
    }
    lua.lua_pop(L, 2);
    const fields = [...cls.fields.values()].filter((f) => f.available && f.impl !== undefined).map((f) => f.name);
    classes[cls.name] = { methods: methods.sort(), fields: fields.sort() };
  }
  return { globals: globals.sort(), classes };
}
