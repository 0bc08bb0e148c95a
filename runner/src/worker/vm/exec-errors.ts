/**
 * The agent's answer when a command could not start names one path: the
 * working directory when chdir failed, else the program. Said plainly, so a
 * missing `cwd` does not read as a missing program.
 */
export function execFailure(e: unknown, cwd: string | undefined): unknown {
  const err = e as { name?: string; op?: string; path?: string; code?: string; message?: string };
  if (err?.name !== 'AgentError' || (err.op !== 'exec' && err.op !== 'spawn')) return e;
  if (cwd !== undefined && err.path === cwd) {
    return new Error(`cannot start the command in working directory ${JSON.stringify(cwd)} (cwd): ${err.code}; give an existing directory of the guest`);
  }
  if (err.code === 'ENOENT') return new Error(`cannot start the command: program ${JSON.stringify(err.path)} not found in the guest (ENOENT); check its name and the PATH`);
  return e;
}
