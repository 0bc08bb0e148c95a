/** A QMP command answered with an error object. */
export class QmpCommandError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP command ${command} failed: ${desc}`);
    this.name = 'QmpCommandError';
  }
}

/** Why QEMU is gone; every operation pending at that moment fails with it. */
export class QemuExitedError extends Error {
  constructor(
    readonly vmName: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly shutdownReason: string | undefined,
    readonly consoleTail: readonly string[],
    readonly stderrTail: readonly string[],
  ) {
    super(formatExit(vmName, code, signal, shutdownReason, consoleTail, stderrTail));
    this.name = 'QemuExitedError';
  }
}

function formatExit(
  vmName: string,
  code: number | null,
  signal: NodeJS.Signals | null,
  shutdownReason: string | undefined,
  consoleTail: readonly string[],
  stderrTail: readonly string[],
): string {
  const how = [signal ? `signal ${signal}` : `code ${code}`];
  if (shutdownReason) how.push(shutdownReason);
  let msg = `QEMU of VM "${vmName}" exited (${how.join(', ')})`;
  msg += consoleTail.length
    ? ` — last console lines:\n${consoleTail.map((l) => `  | ${l}`).join('\n')}`
    : ' — the console was empty';
  if (stderrTail.length) msg += `\nQEMU stderr:\n${stderrTail.map((l) => `  | ${l}`).join('\n')}`;
  return msg;
}
