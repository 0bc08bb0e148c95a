import type { Availability, FieldSpec, FunctionSpec, ParamSpec } from '../schema-types.js';

// Compact constructors keep the schema readable as a table of the API.
export const p = (name: string, type: string, doc?: string, extra: Partial<ParamSpec> = {}): ParamSpec => ({ name, type, doc, ...extra });
export const opt = (name: string, type: string, doc?: string, dflt?: string): ParamSpec => ({ name, type, doc, optional: true, default: dflt });
export const fn = (name: string, params: ParamSpec[], returns: string, doc: string, status: Availability, overloads?: FunctionSpec['overloads']): FunctionSpec =>
  ({ name, params, returns, doc, status, overloads });
export const field = (name: string, type: string, doc: string, status: Availability, writable = false): FieldSpec => ({ name, type, doc, status, writable });
export const rf = (name: string, type: string, doc: string, optional = true, dflt?: string) => ({ name, type, doc, optional, default: dflt });

export const A: Availability = 'available';
