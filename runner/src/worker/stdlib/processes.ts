/**
 * Host processes for os.execute and io.popen: `sh -c` children run
 * asynchronously (the Lua thread waits through a host call, the event loop
 * stays free); their unread output goes to the log, never to the runner's
 * stdout. A child still running when its scope (test or file) ends is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { lua, type LuaState } from '../lua/api.js';
import { pushText } from '../lua/values.js';
import type { Scope } from '../runtime/runtime.js';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Starts `sh -c cmd`; stdout is piped when `readStdout`, stdin when `writeStdin`; the rest goes to the scope's log. */
export function startShell(scope: Scope, cmd: string, opts: { readStdout: boolean; writeStdin: boolean }): { child: ChildProcess; exited: Promise<ExitStatus> } {
  const child = spawn('/bin/sh', ['-c', cmd], { stdio: [opts.writeStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (!opts.readStdout) logStream(scope, child.stdout!);
  logStream(scope, child.stderr!);
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('error', (e) => {
      scope.write(`${cmd}: ${e.message}\n`);
      resolve({ code: 127, signal: null });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let done = false;
  void exited.then(() => (done = true));
  scope.onEnd(async () => {
    if (done) return;
    child.kill('SIGKILL');
    await exited;
  });
  return { child, exited };
}

function logStream(scope: Scope, stream: Readable): void {
  const decoder = new StringDecoder('utf8');
  stream.on('data', (chunk: Buffer) => scope.write(decoder.write(chunk)));
  stream.on('end', () => scope.write(decoder.end()));
  stream.on('error', () => {}); // the child's exit status is what reports it
}

/** Lua 5.3's results for a finished command: true|nil, "exit"|"signal", code. */
export function pushExitStatus(L: LuaState, st: ExitStatus): number {
  if (st.signal !== null) {
    lua.lua_pushnil(L);
    pushText(L, 'signal');
    lua.lua_pushinteger(L, constants.signals[st.signal] ?? 0);
    return 3;
  }
  const code = st.code ?? 0;
  if (code === 0) lua.lua_pushboolean(L, true);
  else lua.lua_pushnil(L);
  pushText(L, 'exit');
  lua.lua_pushinteger(L, code);
  return 3;
}
