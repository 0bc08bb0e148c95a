/**
 * A real nginx (Debian's package, built with http_dav_module) serving a
 * WebDAV directory on a free loopback port: the remote fixture cache of the
 * tests. It runs in the foreground as a child of the test with a config and
 * prefix of its own in a temp directory (nothing global, no systemd), logs
 * each request's method, path and status, and is killed by stop().
 * Plain JavaScript: the tests and bench/remote-cache both start it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where Debian installs nginx; undefined when it is not installed (scripts/setup.sh installs it). */
export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
export const NO_NGINX_REASON = 'nginx is not installed (scripts/setup.sh installs Debian\'s nginx package)';

/**
 * @typedef {object} Nginx
 * @property {string} url  the cache's base URL: `http://127.0.0.1:<port>/cache/`
 * @property {number} port
 * @property {string} dir  the directory the cache's objects are files in
 * @property {() => string[]} requests  one `METHOD /path STATUS` line per request so far
 * @property {() => Promise<void>} stop
 */

/** @returns {Promise<number>} */
async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/** @param {number} port */
const listening = (port) =>
  new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });

/**
 * Starts nginx; with `auth`, the cache wants HTTP basic auth with that user and password.
 * @param {{ user: string, password: string }} [auth]
 * @returns {Promise<Nginx>}
 */
export async function startNginx(auth) {
  if (!NGINX) throw new Error(NO_NGINX_REASON);
  const prefix = mkdtempSync(path.join(tmpdir(), 'provium-nginx-'));
  const dir = path.join(prefix, 'www', 'cache');
  mkdirSync(dir, { recursive: true });
  if (auth) writeFileSync(path.join(prefix, 'htpasswd'), `${auth.user}:{PLAIN}${auth.password}\n`);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${prefix}/${t};`).join('\n');
    writeFileSync(
      path.join(prefix, 'nginx.conf'),
      `daemon off;
master_process off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log;
events { worker_connections 64; }
http {
  log_format ops '$request_method $uri $status';
  access_log ${prefix}/access.log ops;
${temp}
  server {
    listen 127.0.0.1:${port};
    root ${prefix}/www;
    client_max_body_size 0;
    location /cache/ {
      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
${auth ? `      auth_basic "provium cache";\n      auth_basic_user_file ${prefix}/htpasswd;\n` : ''}    }
  }
}
`,
    );
    const child = spawn(NGINX, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', path.join(prefix, 'error.log')], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let up = false;
    for (let i = 0; i < 100 && !up && child.exitCode === null; i++) {
      up = await listening(port);
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    if (up) {
      return {
        url: `http://127.0.0.1:${port}/cache/`,
        port,
        dir,
        requests: () => (existsSync(path.join(prefix, 'access.log')) ? readFileSync(path.join(prefix, 'access.log'), 'utf8').split('\n').filter(Boolean) : []),
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
          rmSync(prefix, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    const log = existsSync(path.join(prefix, 'error.log')) ? readFileSync(path.join(prefix, 'error.log'), 'utf8') : '';
    if (attempt < 3 && /Address already in use/.test(log)) continue; // the free port was taken meanwhile
    rmSync(prefix, { recursive: true, force: true });
    throw new Error(`nginx did not start: ${log.trim()}`);
  }
}
