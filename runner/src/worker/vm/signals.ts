/**
 * Signal numbers and names as a test sees them (RunResult.signal is the
 * number, as in the original; signal_name the name). The agent names signals
 * in lowercase without "SIG"; the numbers are Linux's on x86 and arm, the
 * guests Provium runs.
 */
const NUMBERS: Record<string, number> = {
  hup: 1, int: 2, quit: 3, ill: 4, trap: 5, abrt: 6, bus: 7, fpe: 8, kill: 9, usr1: 10, segv: 11, usr2: 12, pipe: 13, alrm: 14, term: 15,
  stkflt: 16, chld: 17, cont: 18, stop: 19, tstp: 20, ttin: 21, ttou: 22, urg: 23, xcpu: 24, xfsz: 25, vtalrm: 26, prof: 27, winch: 28,
  io: 29, pwr: 30, sys: 31,
};

/** The number of an agent's signal name ("kill" → 9). */
export function signalNumber(name: string): number | undefined {
  return NUMBERS[name.toLowerCase().replace(/^sig/, '')];
}

/** What a test gives to `process:kill`: a name in any case, with or without SIG, or a number; as the agent takes it. */
export function signalArg(sig: string | number): string {
  if (typeof sig === 'number') {
    if (!Number.isInteger(sig) || sig < 1 || sig > 64) throw new Error(`signal number must be from 1 to 64, got ${sig}`);
    return String(sig);
  }
  const name = sig.toLowerCase().replace(/^sig/, '');
  if (NUMBERS[name] === undefined) throw new Error(`unknown signal "${sig}" (names such as "term", "KILL", "SIGINT", or a number)`);
  return name;
}
