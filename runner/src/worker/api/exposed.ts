/**
 * What a Lua state of this runtime actually exposes, read back from a fresh
 * state: the schema's globals that are set, and per class the schema's method
 * names an instance answers with a function, and the fields it serves. Tests compare it with the schema's
 * 'available' entries in both directions.
 */
import { API, type ApiSchema } from '@provium/types';
import { lauxlib, lua } from '../lua/api.js';
import { pushText, toText } from '../lua/values.js';
import { createLuaState } from '../runtime/create-state.js';
import { compileApi } from '../binding/compile.js';
import type { BindingRegistry, FileServices } from '../binding/registry.js';
import { defaultRegistry } from './bindings.js';

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
  queued: (work) => work,
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
  // Methods are made on first use: ask an instance of each class for every name the schema
  // gives it (and the registry could not add others: compileApi rejects those).
  if (lauxlib.luaL_loadbuffer(L, Buffer.from('local o, name = ...; return type(o[name])'), null, '=exposed') !== lua.LUA_OK) throw new Error(toText(L, -1));
  const typeOfMember = lua.lua_gettop(L);
  for (const cls of api.classes.values()) {
    const methods: string[] = [];
    for (const name of [...cls.methods.keys(), ...cls.unexposed.keys()]) {
      lua.lua_pushvalue(L, typeOfMember);
      bindings.pushInstance(L, cls, {});
      pushText(L, name);
      if (lua.lua_pcall(L, 2, 1, 0) === lua.LUA_OK && toText(L, -1) === 'function') methods.push(name);
      lua.lua_pop(L, 1);
    }
    const fields = [...cls.fields.values()].filter((f) => f.available && f.impl !== undefined).map((f) => f.name);
    classes[cls.name] = { methods: methods.sort(), fields: fields.sort() };
  }
  return { globals: globals.sort(), classes };
}
