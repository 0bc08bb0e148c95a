import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { shardSpec } from './options.js';

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
