/**
 * The remote fixture cache's settings: where it is, whether this run may
 * upload, its credentials and its timeout. Precedence, highest first: the
 * command line (`--remote-cache URL`, `--remote-cache-read-only`), the
 * environment (`PROVIUM_REMOTE_CACHE`, `PROVIUM_REMOTE_CACHE_UPLOAD`), then
 * `[provium] remote_cache`, `remote_cache_upload`, `remote_cache_timeout`.
 * An empty URL at a higher level turns a lower one off.
 *
 * Credentials come from the environment only — `PROVIUM_REMOTE_CACHE_AUTH`
 * (`user:password`, HTTP basic) or `PROVIUM_REMOTE_CACHE_TOKEN` (a bearer
 * token) — or from the userinfo of a URL given on the command line or in
 * the environment; provium.toml is committed, so a URL there may not carry
 * them. No message prints them: every URL shown goes through redactUrl.
 */
import { toSeconds } from '@provium/types';
import { UsageError } from '../errors.js';

/** Default of `remote_cache_timeout`, seconds. */
export const DEFAULT_REMOTE_CACHE_TIMEOUT_S = 10;

/** What provium.toml says (load.ts checks it with readRemoteCacheSection). */
export interface RemoteCacheToml {
  remoteCache?: string;
  remoteCacheUpload?: boolean;
  /** Seconds. */
  remoteCacheTimeout?: number;
}

export interface RemoteCacheFlags {
  remoteCache?: string;
  remoteCacheReadOnly?: boolean;
}

export interface RemoteCacheSettings {
  /** The base URL without credentials, ending in "/": objects are `<url><key>.json` and so on. */
  url: string;
  upload: boolean;
  /** The Authorization header. Never printed. */
  authorization?: string;
  /** How long a request may wait for an answer, and a transfer go without progress, ms. */
  timeoutMs: number;
}

/** `s` with the userinfo of every URL in it replaced by `***`. */
export function redactUrl(s: string): string {
  return s.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}

/** The URL `value` from `where`, checked: http(s), no query or fragment; userinfo only where `userinfo` allows it. */
function checkUrl(value: string, where: string, userinfo: boolean): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`${where}: "${redactUrl(value)}" is not a URL; expected http://host[:port]/path or https://…`);
  }
  const shown = redactUrl(value);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${where}: "${shown}" is not an http:// or https:// URL (the remote cache speaks plain HTTP: GET, HEAD, PUT, DELETE)`);
  if (u.search || u.hash) throw new UsageError(`${where}: "${shown}" has a query or fragment; give the base URL the cache's objects go under`);
  if ((u.username || u.password) && !userinfo) {
    throw new UsageError(`${where}: "${shown}" carries credentials; provium.toml is committed: put them in PROVIUM_REMOTE_CACHE_AUTH (user:password) or PROVIUM_REMOTE_CACHE_TOKEN instead`);
  }
  return u;
}

/** Checks the remote cache keys of `[provium]` in `file`; throws UsageError naming the key and value. */
export function readRemoteCacheSection(section: Record<string, unknown>, file: string): RemoteCacheToml {
  const out: RemoteCacheToml = {};
  const { remote_cache: url, remote_cache_upload: upload, remote_cache_timeout: timeout } = section;
  if (url !== undefined) {
    if (typeof url !== 'string') throw new UsageError(`${file}: [provium] remote_cache must be a URL string, e.g. "http://cache.example:8080/provium/"; got ${JSON.stringify(url)}`);
    if (url !== '') checkUrl(url, `${file}: [provium] remote_cache`, false);
    out.remoteCache = url;
  }
  if (upload !== undefined) {
    if (typeof upload !== 'boolean') throw new UsageError(`${file}: [provium] remote_cache_upload must be true or false; got ${JSON.stringify(upload)}`);
    out.remoteCacheUpload = upload;
  }
  if (timeout !== undefined) {
    let s: number;
    try {
      s = toSeconds(timeout as number | string, `${file}: [provium] remote_cache_timeout`);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (!(s > 0 && s <= 3600)) throw new UsageError(`${file}: [provium] remote_cache_timeout = ${JSON.stringify(timeout)}: expected a duration above 0 and at most 1h, e.g. "10s"`);
    out.remoteCacheTimeout = s;
  }
  return out;
}

function envBool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new UsageError(`${name}=${JSON.stringify(v)}: expected true or false (1/0, yes/no, on/off)`);
}

function authorization(u: URL, env: NodeJS.ProcessEnv): string | undefined {
  const basic = env.PROVIUM_REMOTE_CACHE_AUTH || undefined;
  const token = env.PROVIUM_REMOTE_CACHE_TOKEN || undefined;
  const inUrl = u.username || u.password;
  if ([basic, token, inUrl].filter(Boolean).length > 1) {
    throw new UsageError('remote cache credentials given twice: use one of PROVIUM_REMOTE_CACHE_AUTH, PROVIUM_REMOTE_CACHE_TOKEN and the URL\'s user:password@');
  }
  if (basic !== undefined) {
    if (!basic.includes(':')) throw new UsageError('PROVIUM_REMOTE_CACHE_AUTH must be user:password (HTTP basic); for a bearer token set PROVIUM_REMOTE_CACHE_TOKEN instead');
    return `Basic ${Buffer.from(basic).toString('base64')}`;
  }
  if (token !== undefined) return `Bearer ${token}`;
  if (inUrl) return `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  return undefined;
}

/** The run's remote cache, or undefined when none is configured. */
export function resolveRemoteCache(toml: RemoteCacheToml, flags: RemoteCacheFlags, env: NodeJS.ProcessEnv = process.env): RemoteCacheSettings | undefined {
  const [raw, where] =
    flags.remoteCache !== undefined ? [flags.remoteCache, '--remote-cache'] : env.PROVIUM_REMOTE_CACHE !== undefined ? [env.PROVIUM_REMOTE_CACHE, 'PROVIUM_REMOTE_CACHE'] : [toml.remoteCache, '[provium] remote_cache'];
  const upload = flags.remoteCacheReadOnly ? false : envBool(env, 'PROVIUM_REMOTE_CACHE_UPLOAD') ?? toml.remoteCacheUpload ?? true;
  if (!raw) return undefined;
  const u = checkUrl(raw, where, where !== '[provium] remote_cache');
  const auth = authorization(u, env);
  u.username = '';
  u.password = '';
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return { url: u.href, upload, ...(auth ? { authorization: auth } : {}), timeoutMs: (toml.remoteCacheTimeout ?? DEFAULT_REMOTE_CACHE_TIMEOUT_S) * 1000 };
}
