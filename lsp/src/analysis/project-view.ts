/**
 * What the analysis needs to know about the workspace (implemented by
 * project/workspace.ts): fixtures, profiles and helper modules.
 */
import type { Loc, LuaType } from './lua-types.js';

export type FixtureKind = 'vm' | 'lab';

export interface FixtureMember {
  kind: 'VM' | 'Bridge' | 'Lab';
  loc: Loc;
}

export interface FixtureRef {
  name: string;
  method: 'vm_fixture' | 'lab_fixture';
  loc: Loc;
}

export interface FixtureSummary {
  name: string;
  uri: string;
  /** What the file returns: a VM snapshot, a lab snapshot, something else (`none`), or not known statically. */
  kind: FixtureKind | 'none' | 'unknown';
  /** VMs, bridges and sub-labs the fixture creates on its root lab, by name. */
  members: Map<string, FixtureMember>;
  /** Fixtures it resumes, in source order. */
  deps: FixtureRef[];
}

export interface ModuleRef {
  uri: string;
  /** The table the helper returns (lazily typed). */
  type: () => LuaType;
}

export interface ProjectView {
  /** Changes whenever fixtures, helpers or provium.toml change. */
  readonly version: number;
  fixture(name: string): FixtureSummary | undefined;
  fixtureNames(): string[];
  /** The fixture name of a *.fixture.lua file under a root, else undefined. */
  fixtureNameOf(uri: string): string | undefined;
  /** Profile names of provium.toml, plus the built-in "default". */
  profiles(): string[];
  /** The roots as the author wrote them, for messages ("tests"). */
  rootsLabel(): string;
  module(name: string): ModuleRef | undefined;
  moduleNames(): string[];
  /** Where `require(name)` looks, for the "cannot find" message. */
  modulePaths(name: string): string[];
}
