/**
 * mmdebstrap, which makes the debian guest's root tree from Debian's mirror.
 * As root it runs in mode "root": in a private mount namespace when the host
 * allows one, so its mounts in the tree (/proc, /sys, /dev nodes) end with it
 * even if it is killed. Otherwise in mode "unshare" (rootless: a user
 * namespace mapped through newuidmap and /etc/subuid); the tree then comes
 * out as a tarball, whose owners only a namespace or fakeroot can reproduce.
 */
import { createInterface } from 'node:readline';
import { userInfo } from 'node:os';
import { readFile } from 'node:fs/promises';
import { loadExeca } from './load-execa.js';

export type MmdebstrapMode = 'root' | 'unshare';

export type DebianBuildSupport = { ok: true; mode: MmdebstrapMode; version: string } | { ok: false; reason: string };

const INSTALL_HINT = 'install it with `apt-get install mmdebstrap` (scripts/setup.sh)';

/** The output of a command that succeeded; undefined when it failed or is missing. */
async function outputOf(command: string, args: string[]): Promise<string | undefined> {
  const execa = await loadExeca();
  const result = await execa(command, args, { reject: false, stdin: 'ignore' });
  return result.failed ? undefined : `${result.stdout}${result.stderr}`.trim();
}

async function onPath(command: string): Promise<boolean> {
  return (await outputOf('sh', ['-c', 'command -v "$1"', 'sh', command])) !== undefined;
}

async function hasSubordinateIds(file: string, user: string): Promise<boolean> {
  try {
    return (await readFile(file, 'utf8')).split('\n').some((line) => line.startsWith(`${user}:`));
  } catch {
    return false;
  }
}

/** Whether this host can build the debian image, and how; the reason names what is missing and the fix. */
export async function debianBuildSupport(): Promise<DebianBuildSupport> {
  const version = await outputOf('mmdebstrap', ['--version']);
  if (version === undefined) return { ok: false, reason: `mmdebstrap is not installed: ${INSTALL_HINT}` };
  if (process.getuid?.() === 0) return { ok: true, mode: 'root', version };
  const user = userInfo().username;
  if (!(await onPath('newuidmap'))) {
    return { ok: false, reason: 'building as a user (mmdebstrap --mode=unshare) needs newuidmap: `apt-get install uidmap` (scripts/setup.sh), or build as root' };
  }
  if (!(await hasSubordinateIds('/etc/subuid', user)) || !(await hasSubordinateIds('/etc/subgid', user))) {
    return { ok: false, reason: `building as user ${user} (mmdebstrap --mode=unshare) needs ranges in /etc/subuid and /etc/subgid: \`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}\` as root, or build as root` };
  }
  if ((await outputOf('unshare', ['--user', '--map-root-user', 'true'])) === undefined) {
    return { ok: false, reason: 'this host does not allow unprivileged user namespaces (mmdebstrap --mode=unshare): enable them (sysctl kernel.unprivileged_userns_clone=1 where it exists) or build as root' };
  }
  if (!(await onPath('fakeroot'))) {
    return { ok: false, reason: 'building as a user needs fakeroot to turn the tree tarball into ext4: `apt-get install fakeroot` (scripts/setup.sh), or build as root' };
  }
  return { ok: true, mode: 'unshare', version };
}

export interface MmdebstrapRun {
  mode: MmdebstrapMode;
  release: string;
  packages: readonly string[];
  /** Working directory: special hooks' outside paths are relative to it (they must not contain spaces). */
  cwd: string;
  /** Relative to cwd: a directory (mode root) or a .tar (mode unshare). */
  target: string;
  customizeHooks: readonly string[];
  signal: AbortSignal;
  /** Each `I: …` status line of mmdebstrap, without the prefix. */
  onInfo: (line: string) => void;
}

/** Runs mmdebstrap; a failure carries the last lines of its output. */
export async function runMmdebstrap(run: MmdebstrapRun): Promise<void> {
  const execa = await loadExeca();
  const args = [
    `--mode=${run.mode}`,
    '--variant=apt',
    `--format=${run.mode === 'root' ? 'directory' : 'tar'}`,
    `--include=${run.packages.join(',')}`,
    ...run.customizeHooks.map((hook) => `--customize-hook=${hook}`),
    run.release,
    run.target,
  ];
  const privateMounts = run.mode === 'root' && (await outputOf('unshare', ['--mount', '--propagation', 'private', 'true'])) !== undefined;
  const [command, ...prefix] = privateMounts ? ['unshare', '--mount', '--propagation', 'private', '--', 'mmdebstrap'] : ['mmdebstrap'];
  // No forced SIGKILL: on SIGTERM mmdebstrap unmounts and removes what it made, which takes a moment.
  const child = execa(command, [...prefix, ...args], { cwd: run.cwd, reject: false, stdin: 'ignore', cancelSignal: run.signal, forceKillAfterDelay: false, env: { LC_ALL: 'C' } });
  const tail: string[] = [];
  const lines = createInterface({ input: child.stderr! });
  lines.on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    if (line.startsWith('I: ')) run.onInfo(line.slice(3));
  });
  const result = await child;
  if (result.isCanceled) throw run.signal.reason as Error;
  if (result.code === 'ENOENT') throw new Error(`mmdebstrap not found: ${INSTALL_HINT}`);
  if (result.failed) {
    throw new Error(
      `mmdebstrap ${run.release} (mode ${run.mode}) failed (${result.exitCode !== undefined ? `exit ${result.exitCode}` : result.signal ?? result.shortMessage}); ` +
        `its last lines name the package, hook or mirror at fault (Debian's mirror must be reachable):\n${tail.join('\n')}`,
    );
  }
}
