/**
 * `--coverage`: after the run, the tests grouped by `meta.spec`, in the
 * original Provium's `provium-coverage` format. A string is one bucket, a
 * list counts its strings each in their own bucket, anything else is
 * `<unset>`; buckets are sorted bytewise, `<unset>` last.
 */
import type { RunEvent, TestMeta } from '@provium/types';
import type { Reporter } from './reporter.js';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

type Outcome = keyof Counts;

const KEY = 'spec';
const zero = (): Counts => ({ passed: 0, failed: 0, skipped: 0 });
const line = (c: Counts) => `${c.passed + c.failed + c.skipped} tests (${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped)`;
const bytewise = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class CoverageTally {
  private readonly buckets = new Map<string, Counts>();
  private readonly unset = zero();

  add(meta: TestMeta, outcome: Outcome): void {
    const v = meta[KEY];
    const names = typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((e): e is string => typeof e === 'string') : [];
    if (names.length === 0) this.unset[outcome]++;
    for (const n of names) {
      let c = this.buckets.get(n);
      if (!c) this.buckets.set(n, (c = zero()));
      c[outcome]++;
    }
  }

  /** The report; its totals count a test once per bucket it is in. */
  render(): string {
    const lines = [`coverage by \`${KEY}\`:`];
    const total = zero();
    const rows: [string, Counts][] = [...this.buckets].sort(([a], [b]) => bytewise(a, b));
    if (this.unset.passed + this.unset.failed + this.unset.skipped > 0) rows.push(['<unset>', this.unset]);
    for (const [name, c] of rows) {
      lines.push(`  ${name}: ${line(c)}`);
      for (const k of ['passed', 'failed', 'skipped'] as const) total[k] += c[k];
    }
    lines.push('  ---', `  buckets: ${this.buckets.size}; ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
    return lines.join('\n') + '\n';
  }
}

export class CoverageReporter implements Reporter {
  private readonly tally = new CoverageTally();

  constructor(private readonly out: NodeJS.WritableStream) {}

  onEvent(e: RunEvent): void {
    if (e.event === 'test_passed') this.tally.add(e.meta, 'passed');
    else if (e.event === 'test_failed') this.tally.add(e.meta, 'failed');
    else if (e.event === 'test_skipped') this.tally.add(e.meta, 'skipped');
  }

  close(): void {
    this.out.write(this.tally.render());
  }
}
