export * from './api/schema-types.js';
export * from './api/schema.js';
export * from './api/type-expr.js';
export * from './units.js';
export * from './roots.js';
export * from './events.js';
export * from './rpc.js';
export * from './host-services.js';
export * from './resources.js';
export * from './api/luacats.js';
export * from './api/reference-md.js';
export * from './api/binding-types.js';
export * from './api/bindings-ts.js';
/** The generated binding interfaces, as `Lua.VMBinding` etc. (record names such as TestMeta would clash with the events'). */
export * as Lua from './api/bindings.generated.js';
