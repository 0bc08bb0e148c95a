/**
 * What the checks report (checks.ts, check-values.ts): a problem with its
 * exact range, a message that says what to do, and maybe a quick fix.
 */

export type ProblemCode =
  | 'syntax' | 'unknown-member' | 'dot-call' | 'colon-field' | 'arg-count' | 'arg-type' | 'bad-duration' | 'bad-size'
  | 'unknown-key' | 'unknown-setting' | 'not-available' | 'unknown-profile' | 'unknown-fixture' | 'wrong-fixture-kind'
  | 'fixture-return' | 'fixture-cycle' | 'unknown-module';

export interface Edit {
  start: number;
  end: number;
  newText: string;
}

export interface Problem {
  start: number;
  end: number;
  severity: 'error' | 'warning';
  code: ProblemCode;
  message: string;
  fix?: { title: string; edits: Edit[] };
}

export class Collector {
  readonly problems: Problem[] = [];
  add(range: [number, number], code: ProblemCode, message: string, severity: Problem['severity'] = 'error', fix?: Problem['fix']): void {
    this.problems.push({ start: range[0], end: range[1], code, message, severity, fix });
  }
}
