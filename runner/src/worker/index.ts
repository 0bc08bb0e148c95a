/** The worker's public surface: running a file in-process, the binding layer, host calls. */
export { runLuaFile, type RunOptions } from './run-file.js';
export { default as runSession } from './entry.js';
export { BindingRegistry } from './binding/registry.js';
export { API_BINDINGS, defaultRegistry } from './api/bindings.js';
export type { CallContext, ClassImpl, FieldImpl, FileServices, GlobalImpl, JsMethod, MethodImpl, RawMethod } from './binding/registry.js';
export { listExposed, type ExposedApi } from './api/exposed.js';
export { hostAwait, canWait } from './runtime/host-call.js';
export { toBytes, pushBytes, toText, pushText } from './lua/values.js';
