/**
 * The guest-visible fault policy of a mediated disk: which guest commands
 * fail with EIO, and how long each waits. Changed at run time one field at a
 * time; every change restarts the count of fail_after.
 */

export const SECTOR = 512;
/** setTimeout's own limit. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** The policy as plain data; keys of rules not set are absent. */
export interface PolicyState {
  fail_reads: boolean;
  fail_writes: boolean;
  fail_after?: number;
  fail_range_sector?: number;
  fail_range_count?: number;
  delay_ms?: number;
}

/** One change of the policy (the op names are the Lua methods'). */
export type PolicyChange =
  | { op: 'fail_reads'; on: boolean }
  | { op: 'fail_writes'; on: boolean }
  | { op: 'fail_after'; n: number }
  | { op: 'fail_range'; sector: number; count: number }
  | { op: 'delay'; ms: number }
  | { op: 'clear' };

/** What the policy sees of a guest command: TRIM and WRITE_ZEROES are writes. */
export type IoKind = 'read' | 'write' | 'flush';

function wholeNumber(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

/** Throws naming the change and the value at fault; the caller adds which disk. */
export function checkPolicyChange(change: PolicyChange): void {
  switch (change.op) {
    case 'fail_reads':
    case 'fail_writes':
      if (typeof change.on !== 'boolean') throw new Error(`${change.op}: on must be true or false, got ${JSON.stringify(change.on)}`);
      return;
    case 'fail_after':
      if (!wholeNumber(change.n, 1)) throw new Error(`fail_after: n must be a whole number of at least 1 (the n-th guest command from now fails), got ${JSON.stringify(change.n)}`);
      return;
    case 'fail_range':
      if (!wholeNumber(change.sector, 0)) throw new Error(`fail_range: sector must be a whole number of at least 0 (512-byte sectors), got ${JSON.stringify(change.sector)}`);
      if (!wholeNumber(change.count, 1)) throw new Error(`fail_range: count must be a whole number of at least 1 (sectors), got ${JSON.stringify(change.count)}`);
      return;
    case 'delay':
      if (typeof change.ms !== 'number' || !(change.ms >= 0 && change.ms <= MAX_DELAY_MS)) {
        throw new Error(`delay: ms must be a number from 0 to ${MAX_DELAY_MS} (0 turns the delay off), got ${JSON.stringify(change.ms)}`);
      }
      return;
    case 'clear':
      return;
    default:
      throw new Error(`unknown policy change ${JSON.stringify(change)}: use fail_reads, fail_writes, fail_after, fail_range, delay or clear`);
  }
}

export class FaultPolicy {
  private state: PolicyState = { fail_reads: false, fail_writes: false };
  /** Guest commands judged since the last change. */
  private seen = 0;

  /** Applies one change (validated first: a bad one changes nothing) and returns the new policy. */
  apply(change: PolicyChange): PolicyState {
    checkPolicyChange(change);
    let s = { ...this.state };
    switch (change.op) {
      case 'fail_reads':
        s.fail_reads = change.on;
        break;
      case 'fail_writes':
        s.fail_writes = change.on;
        break;
      case 'fail_after':
        s.fail_after = change.n;
        break;
      case 'fail_range':
        s.fail_range_sector = change.sector;
        s.fail_range_count = change.count;
        break;
      case 'delay':
        if (change.ms > 0) s.delay_ms = change.ms;
        else delete s.delay_ms;
        break;
      case 'clear':
        s = { fail_reads: false, fail_writes: false };
        break;
    }
    this.state = s;
    this.seen = 0;
    return this.snapshot();
  }

  snapshot(): PolicyState {
    return { ...this.state };
  }

  /** Milliseconds to wait before serving a command (0: none). */
  get delayMs(): number {
    return this.state.delay_ms ?? 0;
  }

  /** Counts one guest command and tells whether it fails (with EIO). */
  fails(kind: IoKind, offset: number, length: number): boolean {
    const s = this.state;
    this.seen++;
    if (s.fail_after !== undefined && this.seen >= s.fail_after) return true;
    if (kind === 'flush') return false;
    if (kind === 'read' ? s.fail_reads : s.fail_writes) return true;
    if (s.fail_range_sector === undefined || s.fail_range_count === undefined) return false;
    const from = s.fail_range_sector * SECTOR;
    const to = from + s.fail_range_count * SECTOR;
    return offset < to && offset + Math.max(length, 1) > from;
  }
}
