import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { clampOvercommit, finiteNumber, metaPair, poolMemory, renameNegatedOptions, shardSpec, vmmBackend } from './options.js';

describe('--shard K/N', () => {
  const parse = shardSpec('--shard');

  it('reads K and N', () => {
    expect(parse('1/1')).toEqual({ index: 1, count: 1 });
    expect(parse('2/3')).toEqual({ index: 2, count: 3 });
    expect(parse('12/12')).toEqual({ index: 12, count: 12 });
  });

  it.each(['0/3', '4/3', '1/0', '-1/3', '3', '1/2/3', 'a/b', '1.5/3', '/3', '2/', ''])('refuses %j, naming the option and the value', (bad) => {
    const e = (() => {
      try {
        parse(bad);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toContain('--shard');
    expect((e as Error).message).toContain(`"${bad}"`);
    expect((e as Error).message).toContain('1 <= K <= N');
  });
});

const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
};

describe('--mem SIZE', () => {
  const parse = poolMemory('--mem');

  it('reads bytes and K/M/G in either case', () => {
    expect(parse('4096')).toBe(4096);
    expect(parse('512M')).toBe(512 * 1024 ** 2);
    expect(parse('512m')).toBe(512 * 1024 ** 2);
    expect(parse('2g')).toBe(2 * 1024 ** 3);
    expect(parse('64K')).toBe(64 * 1024);
  });

  it.each(['lots', '12Q', '', '-1G', '2 gigs'])('refuses %j as a size it cannot parse', (bad) => {
    const e = thrown(() => parse(bad));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/--mem: cannot parse ".*" as a size/);
  });

  it('refuses a size past 64 bits, and zero', () => {
    expect(thrown(() => parse('18446744073709551616')).message).toMatch(/--mem: the size "18446744073709551616" overflows 64 bits/);
    expect(thrown(() => parse('99999999999G')).message).toContain('overflows');
    expect(thrown(() => parse('0')).message).toMatch(/--mem: the size "0" leaves the pool no memory/);
  });
});

describe('--cpu-overcommit F', () => {
  it('is clamped to [0.5, 8] with a notice only when that changes it', () => {
    const notices: string[] = [];
    const clamp = (v: number) => clampOvercommit(v, (m) => notices.push(m));
    expect([clamp(1), clamp(0.5), clamp(8), clamp(2.5)]).toEqual([1, 0.5, 8, 2.5]);
    expect(notices).toEqual([]);
    expect(clamp(100)).toBe(8);
    expect(clamp(0.1)).toBe(0.5);
    expect(clamp(-3)).toBe(0.5);
    expect(notices).toEqual([
      '--cpu-overcommit 100 clamped to 8 (the range is 0.5 to 8)',
      '--cpu-overcommit 0.1 clamped to 0.5 (the range is 0.5 to 8)',
      '--cpu-overcommit -3 clamped to 0.5 (the range is 0.5 to 8)',
    ]);
  });

  it.each(['', 'fast', '1x', 'Infinity'])('refuses %j', (bad) => {
    expect(thrown(() => finiteNumber('--cpu-overcommit')(bad)).message).toBe(`--cpu-overcommit: expected a number, got "${bad}"`);
  });
});

describe('--tag-meta KEY=VALUE', () => {
  const parse = metaPair('--tag-meta');

  it('splits at the first =, collects repeats, and allows an empty value', () => {
    expect(parse('spec=RFC=1', parse('area=dns'))).toEqual([{ key: 'area', value: 'dns' }, { key: 'spec', value: 'RFC=1' }]);
    expect(parse('note=')).toEqual([{ key: 'note', value: '' }]);
  });

  it.each(['=x', 'spec', ''])('refuses %j: an empty or missing KEY', (bad) => {
    const e = thrown(() => parse(bad));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain(`expected KEY=VALUE with a non-empty KEY`);
    expect(e.message).toContain(`"${bad}"`);
  });
});

describe('--vmm', () => {
  it('accepts qemu and refuses local, saying why', () => {
    expect(vmmBackend('--vmm')('qemu')).toBe('qemu');
    expect(thrown(() => vmmBackend('--vmm')('local')).message).toMatch(/--vmm local is not available: .* runs every test in a QEMU guest/);
    expect(thrown(() => vmmBackend('--vmm')('kvm')).message).toBe('--vmm: unknown backend "kvm"; the one backend is qemu');
  });
});

describe('--no-tag and --no-tag-meta', () => {
  it('are renamed so that commander does not read them as negations', () => {
    expect(renameNegatedOptions(['--no-tag', 'a', '--no-tag=b', '--no-tag-meta', 'k=v', '--no-tag-meta=k=v', '--no-progress', '--tag', 'c'])).toEqual([
      '--skip-tag', 'a', '--skip-tag=b', '--skip-tag-meta', 'k=v', '--skip-tag-meta=k=v', '--no-progress', '--tag', 'c',
    ]);
  });
});
