export * from './api/schema-types.js';
export * from './api/schema.js';
export * from './api/type-expr.js';
export * from './units.js';
export * from './events.js';
export * from './rpc.js';
export * from './api/luacats.js';
export * from './api/reference-md.js';
