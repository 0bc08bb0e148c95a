import { describe, expect, it } from 'vitest';
import { CoverageTally } from './coverage.js';

describe('--coverage report', () => {
  it('groups by meta.spec: a string, each string of a list, everything else under <unset>', () => {
    const t = new CoverageTally();
    t.add({ spec: 'RFC-9110 §9' }, 'passed');
    t.add({ spec: 'RFC-9110 §9' }, 'failed');
    t.add({ spec: ['RFC-1035', 'RFC-9110 §9'] }, 'passed');
    t.add({ spec: 'RFC-1035' }, 'skipped');
    t.add({}, 'passed');
    t.add({ spec: 7 }, 'failed');
    t.add({ spec: { section: 'x' } }, 'skipped');
    t.add({ spec: [1, 2] }, 'passed');
    expect(t.render()).toBe(
      [
        'coverage by `spec`:',
        '  RFC-1035: 2 tests (1 passed, 0 failed, 1 skipped)',
        '  RFC-9110 §9: 3 tests (2 passed, 1 failed, 0 skipped)',
        '  <unset>: 4 tests (2 passed, 1 failed, 1 skipped)',
        '  ---',
        '  buckets: 2; 5 passed, 2 failed, 2 skipped',
        '',
      ].join('\n'),
    );
  });

  it('sorts buckets bytewise (uppercase before lowercase, ASCII before other scripts)', () => {
    const t = new CoverageTally();
    for (const s of ['§1', 'b', 'B', 'a10', 'a2']) t.add({ spec: s }, 'passed');
    const names = t.render().split('\n').slice(1, 6).map((l) => l.trim().split(':')[0]);
    expect(names).toEqual(['B', 'a10', 'a2', 'b', '§1']);
  });

  it('an empty run prints the header and zero totals, without an <unset> line', () => {
    expect(new CoverageTally().render()).toBe('coverage by `spec`:\n  ---\n  buckets: 0; 0 passed, 0 failed, 0 skipped\n');
  });
});
