/**
 * The types the analysis infers for Lua values: schema types (classes,
 * records, primitives, lists) plus what the code itself builds (tables with
 * known fields, e.g. a helper module, and local functions).
 */
import type { FunctionSpec, PrimName } from '@provium/types';

/** Where a node came from: node ranges are relative to `base` in the file `uri`. */
export interface Source {
  uri: string;
  /** Absolute offset of range 0; NaN for stale trees (no position to go to). */
  readonly base: number;
}

export interface Loc {
  source: Source;
  range: [number, number];
}

export interface Member {
  name: string;
  type: () => LuaType;
  loc?: Loc;
  doc?: string;
}

export interface LabInfo {
  /** The file's `provium`. */
  root?: boolean;
  /** Resumed from this lab fixture: its members are known. */
  fixture?: string;
}

export type LuaType =
  | { kind: 'unknown' }
  | { kind: 'prim'; name: PrimName }
  | { kind: 'class'; name: string; lab?: LabInfo }
  | { kind: 'record'; name: string }
  | { kind: 'list'; of: LuaType }
  | { kind: 'map'; key: LuaType; value: LuaType }
  | { kind: 'union'; of: LuaType[] }
  /** A table built by the code; `module` names the helper it was required from. */
  | { kind: 'table'; fields: () => Map<string, Member>; module?: string; loc?: Loc }
  /** `returns(args)`: what a call returns, given the types of its arguments (parameters are typed by the call site). */
  | { kind: 'function'; name?: string; params: string[]; returns: (args?: LuaType[]) => LuaType; loc?: Loc; doc?: string }
  /** A global function of the schema (`test`, `todo`, `wait_until`). */
  | { kind: 'api'; spec: FunctionSpec };

export const UNKNOWN: LuaType = { kind: 'unknown' };

export const prim = (name: PrimName): LuaType => ({ kind: 'prim', name });
export const classType = (name: string, lab?: LabInfo): LuaType => ({ kind: 'class', name, lab });

export function isKnown(t: LuaType): boolean {
  return t.kind !== 'unknown' && !(t.kind === 'prim' && (t.name === 'any' || t.name === 'nil'));
}

/** The type as a hover or a message shows it. */
export function describeType(t: LuaType): string {
  switch (t.kind) {
    case 'unknown': return 'unknown';
    case 'prim': return t.name === 'bytes' ? 'string' : t.name;
    case 'class': return t.lab?.fixture ? `Lab (fixture "${t.lab.fixture}")` : t.name;
    case 'record': return t.name;
    case 'list': return `${describeType(t.of)}[]`;
    case 'map': return `table<${describeType(t.key)}, ${describeType(t.value)}>`;
    case 'union': return t.of.map(describeType).join('|');
    case 'table': return t.module ? `module "${t.module}"` : 'table';
    case 'function': return `function${t.name ? ' ' + t.name : ''}(${t.params.join(', ')})`;
    case 'api': return `function ${t.spec.name}`;
  }
}

/** Alternatives of a union, or the type itself. */
export function alternatives(t: LuaType): LuaType[] {
  return t.kind === 'union' ? t.of : [t];
}
