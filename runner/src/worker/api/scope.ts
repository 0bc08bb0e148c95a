/** Small helpers the VM-side bindings share: timeouts scaled by --timeout-scale, and streams closed with their scope. */
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { CallContext } from '../binding/registry.js';
import type { VmSession } from '../vm/session.js';
import type { Stream } from '../vm/stream.js';

/** Seconds (as the author wrote them, or `dflt`) → seconds scaled by --timeout-scale. */
export const scaledSeconds = (seconds: number | undefined, call: CallContext, dflt: number) => (seconds ?? dflt) * call.services.timeoutScale;

/** Seconds → milliseconds scaled by --timeout-scale. */
export const scaledMs = (seconds: number, call: CallContext) => seconds * 1000 * call.services.timeoutScale;

/** A stream opened by a test is closed when that test ends (the file, in top-level code). */
export function opened(s: Stream, call: CallContext, session: VmSession): Stream {
  call.services.onScopeEnd(() => s.close(), 'stream');
  const where = call.where ? `${call.where.file}:${call.where.line}` : 'an unknown line';
  const scope = call.services.testName === undefined ? 'in top-level code' : `in test "${call.services.testName}"`;
  session.openStreams.set(s, `${s.label} (opened at ${where}, ${scope})`);
  s.onClose = () => session.openStreams.delete(s);
  return s;
}

/** The absolute path of a snapshot the author named, whose directory must exist. */
export function snapshotPathArg(given: string | undefined, what: string): string | undefined {
  if (given === undefined) return undefined;
  const p = path.resolve(given);
  if (!existsSync(path.dirname(p))) throw new Error(`${what}: directory ${path.dirname(p)} does not exist; create it first`);
  return p;
}

export function requireHostOf(call: CallContext) {
  if (!call.services.host) throw new Error('no VM host in this run (internal: runLuaFile was called without host services)');
  return call.services.host;
}
