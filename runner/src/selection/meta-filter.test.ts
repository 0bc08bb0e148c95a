import { describe, expect, it } from 'vitest';
import { metaSelected, type MetaPair } from './meta-filter.js';

const kv = (...pairs: string[]): MetaPair[] => pairs.map((p) => ({ key: p.slice(0, p.indexOf('=')), value: p.slice(p.indexOf('=') + 1) }));

describe('--tag-meta / --no-tag-meta', () => {
  const web = { spec: 'RFC-9110', area: ['http', 'tls'], priority: 1, flaky: false };
  const dns = { spec: 'RFC-1035', area: 'dns' };
  const bare = {};

  it('selects everything when no pair is given', () => {
    for (const m of [web, dns, bare]) expect(metaSelected(m)).toBe(true);
  });

  it('matches a string, an element of a list, and the text of a number or boolean', () => {
    expect(metaSelected(web, kv('spec=RFC-9110'))).toBe(true);
    expect(metaSelected(web, kv('area=tls'))).toBe(true);
    expect(metaSelected(web, kv('priority=1'))).toBe(true);
    expect(metaSelected(web, kv('flaky=false'))).toBe(true);
    expect(metaSelected(web, kv('spec=RFC-1035'))).toBe(false);
    expect(metaSelected(web, kv('area=http,tls'))).toBe(false); // the whole list is not an element
    expect(metaSelected(bare, kv('spec=RFC-9110'))).toBe(false);
  });

  it('ORs the values of one key and ANDs the keys', () => {
    const either = kv('spec=RFC-9110', 'spec=RFC-1035');
    expect([web, dns, bare].map((m) => metaSelected(m, either))).toEqual([true, true, false]);
    const both = kv('spec=RFC-1035', 'area=dns');
    expect([web, dns].map((m) => metaSelected(m, both))).toEqual([false, true]);
    expect(metaSelected(dns, kv('spec=RFC-1035', 'area=http'))).toBe(false);
  });

  it('the negative form wins', () => {
    expect(metaSelected(web, kv('area=http'), kv('area=tls'))).toBe(false);
    expect(metaSelected(dns, [], kv('area=tls'))).toBe(true);
    expect(metaSelected(web, [], kv('spec=RFC-9110'))).toBe(false);
  });

  it('an empty VALUE matches an empty string, and a key is never matched through the prototype', () => {
    expect(metaSelected({ note: '' }, kv('note='))).toBe(true);
    expect(metaSelected(bare, kv('toString=x'))).toBe(false);
  });
});
