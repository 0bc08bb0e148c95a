/**
 * The shape of the Provium API schema. The schema itself (api/*.ts) is the one
 * source of truth: the runtime's argument checks, the language server, the
 * generated reference docs and the LuaCATS export are all derived from it.
 *
 * Types are written as small type expressions (see `type-expr.ts`):
 *   string | number | integer | boolean | nil | any | function | table
 *   bytes      a binary-safe Lua string
 *   duration   seconds (number) or a string with a unit: "500ms", "5s", "2m", "1h"
 *   size       bytes (number) or a string with a unit: "512M", "2G" (powers of 1024)
 *   Name       a class or record of the schema
 *   T[]        a list, A|B a union, table<K,V> a map
 */

/** `available`: implemented and exposed by the runtime. `planned`: in the API
 * contract, not implemented yet; the runtime does not expose it and the docs and
 * the language server say "not available yet". */
export type Availability = 'available' | 'planned';

export interface ParamSpec {
  name: string;
  type: string;
  optional?: boolean;
  /** Human-readable default, shown in docs and hover. */
  default?: string;
  doc?: string;
}

export interface FunctionSpec {
  name: string;
  params: ParamSpec[];
  returns: string;
  doc: string;
  status: Availability;
  /** Extra overloads, e.g. `lab:vm(name)` lookup beside `lab:vm(name, profile, opts)`. */
  overloads?: { params: ParamSpec[]; returns: string; doc: string }[];
}

export interface FieldSpec {
  name: string;
  type: string;
  doc: string;
  status: Availability;
  /** Settable by the author (`provium.timeout = "2m"`). */
  writable?: boolean;
}

/** A userdata-like object with methods called with `:`. */
export interface ClassSpec {
  name: string;
  doc: string;
  fields: FieldSpec[];
  methods: FunctionSpec[];
  /** Members looked up by name (`cluster.a`): their type. */
  dynamicMembers?: { type: string; doc: string };
}

/** A plain Lua table with known keys: option tables and returned records. */
export interface RecordSpec {
  name: string;
  doc: string;
  fields: { name: string; type: string; optional?: boolean; default?: string; doc: string }[];
  /** Unknown keys are kept (test meta) instead of rejected. */
  open?: boolean;
}

export interface GlobalSpec {
  name: string;
  /** A global function, or a value of a class type (`provium`). */
  kind: 'function' | 'value';
  type?: string;
  fn?: FunctionSpec;
  doc: string;
  status: Availability;
}

export interface ApiSchema {
  version: string;
  globals: GlobalSpec[];
  classes: ClassSpec[];
  records: RecordSpec[];
}
