/**
 * Nanoseconds since the epoch as Lua sees them. fengari's integers are
 * 32-bit, so a count of nanoseconds since the epoch (about 1.8e18) cannot be
 * a Lua integer: it is a float, the double nearest to the exact count (a
 * multiple of 256 ns until 2043, when counts pass 2^61 and of 512 ns after).
 * A string of digits is taken as the exact count.
 */

const NS = 1_000_000_000n;

/** The double nearest to sec * 1e9 + nsec (rounded once, from the exact value). */
export function nsNumber(sec: number, nsec: number): number {
  return Number(BigInt(sec) * NS + BigInt(nsec));
}

/** Seconds and nanoseconds 0..999999999 of a count given as an integral number or a string of decimal digits. */
export function nsParts(ns: number | string, what: string): { sec: number; nsec: number } {
  let exact: bigint;
  if (typeof ns === 'number') {
    if (!Number.isInteger(ns)) throw new Error(`${what}: nanoseconds must be a whole number, got ${ns}`);
    exact = BigInt(ns);
  } else {
    if (!/^-?[0-9]+$/.test(ns.trim())) throw new Error(`${what}: nanoseconds as a string must be decimal digits (an optional "-" first), got ${JSON.stringify(ns)}`);
    exact = BigInt(ns.trim());
  }
  const nsec = ((exact % NS) + NS) % NS;
  return { sec: Number((exact - nsec) / NS), nsec: Number(nsec) };
}
