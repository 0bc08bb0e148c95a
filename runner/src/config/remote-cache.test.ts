// The remote cache's settings: precedence, checks that name the value at fault, credentials that never show.
import { expect, test } from 'vitest';
import { UsageError } from '../errors.js';
import { readRemoteCacheSection, redactUrl, resolveRemoteCache } from './remote-cache.js';

const FILE = '/p/provium.toml';

test('the command line wins over the environment, which wins over provium.toml; an empty URL turns a lower one off', () => {
  const toml = { remoteCache: 'http://toml.example/c', remoteCacheUpload: false, remoteCacheTimeout: 3 };
  expect(resolveRemoteCache(toml, {}, {})).toEqual({ url: 'http://toml.example/c/', upload: false, timeoutMs: 3000 });
  expect(resolveRemoteCache(toml, {}, { PROVIUM_REMOTE_CACHE: 'https://env.example/x/', PROVIUM_REMOTE_CACHE_UPLOAD: 'yes' })).toMatchObject({ url: 'https://env.example/x/', upload: true });
  expect(resolveRemoteCache(toml, { remoteCache: 'http://flag.example:8080/a/b', remoteCacheReadOnly: true }, { PROVIUM_REMOTE_CACHE: 'http://env.example/', PROVIUM_REMOTE_CACHE_UPLOAD: '1' })).toMatchObject({ url: 'http://flag.example:8080/a/b/', upload: false });
  expect(resolveRemoteCache(toml, {}, { PROVIUM_REMOTE_CACHE: '' })).toBeUndefined();
  expect(resolveRemoteCache(toml, { remoteCache: '' }, {})).toBeUndefined();
  expect(resolveRemoteCache({}, {}, {})).toBeUndefined();
  expect(resolveRemoteCache({ remoteCache: 'http://h/' }, {}, {})).toEqual({ url: 'http://h/', upload: true, timeoutMs: 10_000 });
});

test('credentials come from the environment or a URL given there, as a header, never in the URL kept', () => {
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  expect(resolveRemoteCache({}, { remoteCache: 'http://h/c' }, { PROVIUM_REMOTE_CACHE_AUTH: 'ci:s3cr:et' })?.authorization).toBe(basic('ci:s3cr:et'));
  expect(resolveRemoteCache({}, { remoteCache: 'http://h/c' }, { PROVIUM_REMOTE_CACHE_TOKEN: 'tok' })?.authorization).toBe('Bearer tok');
  const fromUrl = resolveRemoteCache({}, {}, { PROVIUM_REMOTE_CACHE: 'http://ci:p%40ss@h/c' })!;
  expect(fromUrl).toEqual({ url: 'http://h/c/', upload: true, authorization: basic('ci:p@ss'), timeoutMs: 10_000 });
  expect(() => resolveRemoteCache({}, { remoteCache: 'http://h/' }, { PROVIUM_REMOTE_CACHE_AUTH: 'just-a-token' })).toThrow('PROVIUM_REMOTE_CACHE_AUTH must be user:password (HTTP basic); for a bearer token set PROVIUM_REMOTE_CACHE_TOKEN instead');
  expect(() => resolveRemoteCache({}, { remoteCache: 'http://u:p@h/' }, { PROVIUM_REMOTE_CACHE_TOKEN: 't' })).toThrow('remote cache credentials given twice');
});

test('bad values are usage errors naming where they come from, with credentials redacted', () => {
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };
  expect(err(() => resolveRemoteCache({}, { remoteCache: 'ftp://u:hunter2@h/x' }, {}))).toBe('--remote-cache: "ftp://***@h/x" is not an http:// or https:// URL (the remote cache speaks plain HTTP: GET, HEAD, PUT, DELETE)');
  expect(err(() => resolveRemoteCache({}, {}, { PROVIUM_REMOTE_CACHE: 'cache.example' }))).toBe('PROVIUM_REMOTE_CACHE: "cache.example" is not a URL; expected http://host[:port]/path or https://…');
  expect(err(() => resolveRemoteCache({}, {}, { PROVIUM_REMOTE_CACHE: 'http://h/?a=1' }))).toContain('has a query or fragment');
  expect(err(() => resolveRemoteCache({}, { remoteCache: 'http://h/' }, { PROVIUM_REMOTE_CACHE_UPLOAD: 'maybe' }))).toBe('PROVIUM_REMOTE_CACHE_UPLOAD="maybe": expected true or false (1/0, yes/no, on/off)');
  const inToml = err(() => readRemoteCacheSection({ remote_cache: 'http://ci:hunter2@h/c' }, FILE));
  expect(inToml).toBe(`${FILE}: [provium] remote_cache: "http://***@h/c" carries credentials; provium.toml is committed: put them in PROVIUM_REMOTE_CACHE_AUTH (user:password) or PROVIUM_REMOTE_CACHE_TOKEN instead`);
  expect(err(() => readRemoteCacheSection({ remote_cache: 42 }, FILE))).toContain('[provium] remote_cache must be a URL string');
  expect(err(() => readRemoteCacheSection({ remote_cache_upload: 'no' }, FILE))).toBe(`${FILE}: [provium] remote_cache_upload must be true or false; got "no"`);
  expect(err(() => readRemoteCacheSection({ remote_cache_timeout: 'soon' }, FILE))).toContain('remote_cache_timeout: invalid duration "soon"');
  expect(err(() => readRemoteCacheSection({ remote_cache_timeout: 0 }, FILE))).toContain('expected a duration above 0 and at most 1h');
  expect(readRemoteCacheSection({ remote_cache: 'http://h/c', remote_cache_upload: false, remote_cache_timeout: '2s' }, FILE)).toEqual({ remoteCache: 'http://h/c', remoteCacheUpload: false, remoteCacheTimeout: 2 });
});

test('redactUrl hides the userinfo of every URL in a text', () => {
  expect(redactUrl('GET http://a:b@h/x failed; see https://tok@other/y')).toBe('GET http://***@h/x failed; see https://***@other/y');
  expect(redactUrl('http://h/x')).toBe('http://h/x');
});
