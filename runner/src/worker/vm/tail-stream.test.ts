import { expect, test } from 'vitest';
import { tailStart } from './tail-stream.js';

test('tail_file start forms become an offset from the start or back from the end', () => {
  expect(tailStart(undefined)).toEqual({ offset: 0, fromEnd: true });
  expect(tailStart('end')).toEqual({ offset: 0, fromEnd: true });
  expect(tailStart('beginning')).toEqual({ offset: 0, fromEnd: false });
  expect(tailStart('start')).toEqual({ offset: 0, fromEnd: false });
  expect(tailStart(7)).toEqual({ offset: 7, fromEnd: false });
  expect(tailStart(-7)).toEqual({ offset: 7, fromEnd: true });
  expect(tailStart(7.9)).toEqual({ offset: 7, fromEnd: false });
  expect(tailStart(-7.9)).toEqual({ offset: 7, fromEnd: true });
  expect(Object.is(tailStart(-0.5).offset, 0)).toBe(true); // truncated to -0: from byte 0
});

test('another string or a number that is no offset raises, listing the accepted forms', () => {
  expect(() => tailStart('middle')).toThrow('tail_file: opts.start must be "end", "beginning", "start", an offset >= 0, or a negative number of bytes before the end; got "middle"');
  expect(() => tailStart(Number.NaN)).toThrow('got NaN');
  expect(() => tailStart(Number.POSITIVE_INFINITY)).toThrow('got Infinity');
  expect(() => tailStart(2 ** 60)).toThrow('opts.start must be');
});
